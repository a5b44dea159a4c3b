package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.TcpConnection;

/**
 * Formats one connection's record into a reusable buffer, without the trailing newline: the JSON record
 * ({@link FlowRecordFormat}) or one of the text forms ({@link TextRecordFormat}). An instance belongs to one thread.
 */
public interface RecordFormatter
{
    /** The record; valid until the next call. */
    AsciiRecord format(TcpConnection c);
}
