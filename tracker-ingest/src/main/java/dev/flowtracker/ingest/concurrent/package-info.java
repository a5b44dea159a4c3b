/** Small concurrency helpers shared by the pipeline stages (no threads of its own). */
package dev.flowtracker.ingest.concurrent;
