/**
 * Small concurrency helpers shared by the pipeline stages (no threads of their own): {@link
 * dev.flowtracker.ingest.concurrent.TrackerThreads} makes every tracker thread (names, daemon flag, what happens to an
 * uncaught exception), {@link dev.flowtracker.ingest.concurrent.Uninterruptibly} waits that must complete.
 */
package dev.flowtracker.ingest.concurrent;
