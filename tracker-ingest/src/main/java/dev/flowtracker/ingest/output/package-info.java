/** Output stage: flow records as JSON lines (Zeek conn.log field names plus the {@code tcp} extension object). */
package dev.flowtracker.ingest.output;
