// Package codec encrypts Temporal payloads: workflow inputs, update arguments, activity
// results and query answers hold patients' notes and cancellation reasons, and Temporal's
// history, its database and its backups must not. Encryption happens in our clients and
// workers; the Temporal server only ever stores ciphertext.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// EncodingEncrypted marks a payload this codec encrypted, the name the SDK samples and
	// the Web UI use for it.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key a payload was encrypted with, so that after a rotation the
	// older keys still open older payloads.
	MetadataKeyID = "encryption-key-id"
	// KeySize is the length of an AES-256 key.
	KeySize = 32
)

// Key is one AES-256 key and the id stored beside what it encrypts.
type Key struct {
	ID     string
	Secret []byte
}

// Codec is a converter.PayloadCodec with AES-256-GCM. The first key encrypts; every key
// decrypts. A Codec without keys encrypts nothing (the dev sandbox without a key) and still
// lets unencrypted payloads through.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec with keys, the first of which encrypts.
func New(keys ...Key) (*Codec, error) {
	c := &Codec{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if k.ID == "" {
			return nil, errors.New("codec: a key has no id")
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %q is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key id %q is listed twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		if i == 0 {
			c.current = k.ID
		}
	}
	return c, nil
}

// Encrypts reports whether the codec has a key to encrypt with.
func (c *Codec) Encrypts() bool { return c.current != "" }

// KeyID is the id of the key that encrypts, "" when none does.
func (c *Codec) KeyID() string { return c.current }

// Encode encrypts each payload whole (metadata included, so the encoding and type of what is
// inside do not show either), under a fresh random nonce.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.current == "" {
		return payloads, nil
	}
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			// The key id is authenticated too: a payload relabelled to another key fails.
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts what this codec encrypted and passes everything else through unchanged:
// histories written before the codec must still replay.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload encrypted with key %q, which is not configured (TEMPORAL_CODEC_KEYS)", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("codec: payload under key %q is too short", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload under key %q does not decrypt: %w", id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("codec: decrypted payload under key %q: %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// DataConverter is the SDK's default converter with c encrypting beneath it: what every
// client, worker and replayer of the platform uses.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter turns errors into Temporal failures with their message and stack trace
// moved into an encoded attribute, encrypted by c: a failure's message can quote what a patient
// wrote, and without this it would be stored in the clear (the server sees "Encoded failure").
// The error type, which the API maps to a problem, stays readable; every client, worker and
// replayer of the platform uses this beside DataConverter, and decodes what it reads.
func FailureConverter(c *Codec) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(c), EncodeCommonAttributes: true,
	})
}

// GenerateKey returns a new key as TEMPORAL_CODEC_KEYS spells one: "id:base64 of 32 random
// bytes". The id is random too: it says nothing about the key.
func GenerateKey() (string, error) {
	secret := make([]byte, KeySize)
	id := make([]byte, 4)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("codec key: %w", err)
	}
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("codec key: %w", err)
	}
	return fmt.Sprintf("codec-%x:%s", id, base64.StdEncoding.EncodeToString(secret)), nil
}
