// Package deploy holds no code: its tests check the Dockerfile, the
// Kubernetes manifests and the Slack app manifest against the real bot.
package deploy
