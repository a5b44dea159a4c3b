/**
 * The daemon's HTTP server: metrics, probes and the flow API ({@link dev.flowtracker.ingest.http.HttpApi}) over
 * Netty ({@link dev.flowtracker.ingest.http.HttpServer}), with TLS and basic auth from a Prometheus-style
 * web-config file ({@link dev.flowtracker.ingest.http.WebConfig}). Built so that clients on the network cannot
 * starve it: connection limits with eviction, request deadlines, and bcrypt off the event loop.
 */
package dev.flowtracker.ingest.http;
