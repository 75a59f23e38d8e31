// Package web is the clinic's web app, as built into dist/ by Vite (`make web`), embedded into
// the API binary: the binary serves it at / with nothing beside it on disk and nothing fetched
// from elsewhere at run time. The sources live beside this file (src/, public/).
package web

import (
	"embed"
	"io/fs"
)

// dist is the built app. The pattern must match a file even before a build, or nothing here
// compiles: dist/robots.txt is committed for that (Vite copies public/robots.txt over it).
//
//go:embed all:dist
var dist embed.FS

// Dist is the built app with dist/ as its root: index.html, assets/ and the public files.
// Before the app is built it holds robots.txt only, and the API answers that it is not built.
var Dist fs.FS = func() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid directory name, which "dist" is not.
		panic(err)
	}
	return sub
}()
