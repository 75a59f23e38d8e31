// Package deploy holds the platform's deployment artefacts and the tests that keep them honest.
//
// The Kustomize base and overlays live in base/, overlays/ and components/ (see README.md);
// the image is built by the Dockerfile and the local stack run by docker-compose.yml at the
// repository root (see OPERATIONS.md). healthcheck/ is the tiny HTTP prober the distroless
// image carries for compose healthchecks.
//
// The package has no runtime code. Its tests load docker-compose.yml with the Compose
// specification's own loader and decode every manifest strictly with the Kubernetes API types,
// then check them against config/config.go (which environment variables exist, which are
// required), against the search attributes the workflows declare, and against each other
// (probes, ports, selectors, autoscalers, disruption budgets, secrets).
package deploy
