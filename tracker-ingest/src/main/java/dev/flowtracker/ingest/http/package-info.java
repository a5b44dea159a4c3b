/**
 * The daemon's HTTP server: metrics, probes, the flow API and the live page
 * ({@link dev.flowtracker.ingest.http.HttpApi}, reference in docs/http-api.md) over Netty
 * ({@link dev.flowtracker.ingest.http.HttpServer}), with TLS and basic auth from a Prometheus-style web-config file
 * ({@link dev.flowtracker.ingest.http.WebConfig}). Built so that clients on the network cannot starve it: connection
 * limits with eviction, request deadlines, and bcrypt off the event loop.
 *
 * <p>Threads: one event loop ({@code tracker-http}) owns every connection and answers the probes; the slow work goes
 * to {@code tracker-http-answer} (metrics and the rest), {@code tracker-http-query} (flow queries, which wait for the
 * shard workers) and {@code tracker-http-bcrypt} (password checks). No pipeline thread runs code of this package.
 */
package dev.flowtracker.ingest.http;
