package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.TcpConnection;

import java.util.Arrays;
import java.util.List;

/**
 * The record stage of both commands: formats every ended connection once, on the worker that ended it, into that
 * worker's own buffer ({@link FlowRecordFormat}, nothing allocated per record), and hands the same bytes to every
 * {@link FlowRecordSink} (with a {@link RecordLayout} other than JSON, the JSON-only sinks get the JSON record and
 * the others the layout's). A new destination is one more sink in the list; the commands and the pipeline do not
 * change.
 *
 * <p>{@link #listenerFor} is called once per worker before it starts; each listener belongs to its worker's thread.
 * {@link #flush} and {@link #close} from one controlling thread; the counters from any thread.
 */
public final class FlowRecords implements AutoCloseable
{
    private final FlowRecordSink[] sinks;
    private final RecordFields fields;
    private final RecordLayout layout;

    /**
     * Records with {@code fields} to {@code sinks}, at least one, in the order given (the first is the one summaries
     * name first).
     */
    public FlowRecords(final List<? extends FlowRecordSink> sinks, final RecordFields fields)
    {
        this(sinks, fields, RecordLayout.JSON);
    }

    /**
     * Records with {@code fields} to {@code sinks} in {@code layout}, but for the sinks that take JSON only
     * ({@link FlowRecordSink#jsonOnly}), which get the full JSON record.
     */
    public FlowRecords(
        final List<? extends FlowRecordSink> sinks, final RecordFields fields, final RecordLayout layout)
    {
        if (sinks.isEmpty())
        {
            throw new IllegalArgumentException("no record sink");
        }
        this.sinks = sinks.toArray(new FlowRecordSink[0]);
        this.fields = fields;
        this.layout = layout;
    }

    /** Records with the default fields to {@code sinks}. */
    public FlowRecords(final List<? extends FlowRecordSink> sinks)
    {
        this(sinks, RecordFields.DEFAULTS);
    }

    /** Records with the default fields to one sink. */
    public FlowRecords(final FlowRecordSink sink)
    {
        this(List.of(sink));
    }

    /** What every record carries beyond its connection. */
    public RecordFields fields()
    {
        return fields;
    }

    /** The listener of one worker's ended connections: formats each and hands it to every sink. */
    public ConnectionListener listenerFor(final int worker)
    {
        return listenerFor(worker, null);
    }

    /**
     * As {@link #listenerFor(int)}, telling {@code before} of each connection first (per-worker counts). The
     * connection is recycled once the listener returns, so whatever reads it does so here, on the worker.
     */
    public ConnectionListener listenerFor(final int worker, final ConnectionListener before)
    {
        final FlowRecordFormat format = new FlowRecordFormat(fields);
        final FlowRecordSink[] to = sinks;
        final boolean allJson = layout.fullJson();
        final RecordFormatter text = allJson ? null : layout.formatter(fields);
        final FlowRecordSink[] json = allJson ? to : Arrays.stream(to).filter(FlowRecordSink::jsonOnly)
            .toArray(FlowRecordSink[]::new);
        final FlowRecordSink[] laidOut = allJson ? new FlowRecordSink[0] : Arrays.stream(to)
            .filter(sink -> !sink.jsonOnly()).toArray(FlowRecordSink[]::new);
        return new ConnectionListener()
        {
            @Override
            public void onConnectionEnd(final TcpConnection connection)
            {
                if (before != null)
                {
                    before.onConnectionEnd(connection);
                }
                write(format, json, text, laidOut, connection, false);
            }

            @Override
            public void onConnectionUpdate(final TcpConnection connection)
            {
                write(format, json, text, laidOut, connection, true);
            }
        };
    }

    /**
     * Formats the record once per layout the sinks take: JSON for the JSON-only sinks (all of them when the layout is
     * JSON), the text layout for the rest. JSON marks an interim record ({@code "interim":true}); a text layout's row
     * has its end_reason unset.
     */
    private static void write(
        final FlowRecordFormat format, final FlowRecordSink[] json, final RecordFormatter text,
        final FlowRecordSink[] laidOut, final TcpConnection connection, final boolean interim)
    {
        if (json.length > 0)
        {
            final AsciiRecord record = interim ? format.formatInterim(connection) : format.format(connection);
            for (final FlowRecordSink sink : json)
            {
                sink.write(record);
            }
        }
        if (laidOut.length > 0)
        {
            final AsciiRecord record = text.format(connection);
            for (final FlowRecordSink sink : laidOut)
            {
                sink.write(record);
            }
        }
    }

    /** How the records are written (but to the JSON-only sinks). */
    public RecordLayout layout()
    {
        return layout;
    }

    /** Whether every sink's reader went away ({@link FlowRecordSink#readerLeft}): nobody reads what follows. */
    public boolean readerLeft()
    {
        for (final FlowRecordSink sink : sinks)
        {
            if (!sink.readerLeft())
            {
                return false;
            }
        }
        return true;
    }

    /** The sinks, in the order given. */
    public List<FlowRecordSink> sinks()
    {
        return List.of(sinks);
    }

    /** Waits for every sink's {@link FlowRecordSink#flush}; true when all delivered everything so far. */
    public boolean flush()
    {
        boolean all = true;
        for (final FlowRecordSink sink : sinks)
        {
            all &= sink.flush();
        }
        return all;
    }

    /** Records the first sink delivered. */
    public long written()
    {
        return sinks[0].written();
    }

    /** Records not delivered, summed over the sinks. */
    public long lost()
    {
        long lost = 0;
        for (final FlowRecordSink sink : sinks)
        {
            lost += sink.lost();
        }
        return lost;
    }

    /** The first sink's failure, prefixed by its name when there are several; null while all work. */
    public String failure()
    {
        for (final FlowRecordSink sink : sinks)
        {
            final String failure = sink.failure();
            if (failure != null)
            {
                return sinks.length == 1 ? failure : sink.name() + ": " + failure;
            }
        }
        return null;
    }

    /** Closes every sink, in order. */
    @Override
    public void close()
    {
        for (final FlowRecordSink sink : sinks)
        {
            sink.close();
        }
    }
}
