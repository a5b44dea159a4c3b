/**
 * Output stage: flow records as JSON lines (Zeek conn.log field names plus the {@code tcp} extension object), or
 * through one list of columns ({@link dev.flowtracker.ingest.output.RecordColumns}) as TSV, Zeek's ASCII log format
 * or an aligned table; the sinks they go to (a file or standard output, Kafka).
 */
package dev.flowtracker.ingest.output;
