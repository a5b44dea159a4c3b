package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.TcpConnection;

import java.util.List;

/**
 * The record stage of both commands: formats every ended connection once, on the worker that ended it, into that
 * worker's own buffer ({@link FlowRecordFormat}, nothing allocated per record), and hands the same bytes to every
 * {@link FlowRecordSink}. A new destination is one more sink in the list; the commands and the pipeline do not
 * change.
 *
 * <p>{@link #listenerFor} is called once per worker before it starts; each listener belongs to its worker's thread.
 * {@link #flush} and {@link #close} from one controlling thread; the counters from any thread.
 */
public final class FlowRecords implements AutoCloseable
{
    private final FlowRecordSink[] sinks;
    private final RecordFields fields;

    /**
     * Records with {@code fields} to {@code sinks}, at least one, in the order given (the first is the one summaries
     * name first).
     */
    public FlowRecords(final List<? extends FlowRecordSink> sinks, final RecordFields fields)
    {
        if (sinks.isEmpty())
        {
            throw new IllegalArgumentException("no record sink");
        }
        this.sinks = sinks.toArray(new FlowRecordSink[0]);
        this.fields = fields;
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
        return new ConnectionListener()
        {
            @Override
            public void onConnectionEnd(final TcpConnection connection)
            {
                write(before, format, to, connection);
            }

            @Override
            public void onConnectionUpdate(final TcpConnection connection)
            {
                final AsciiRecord record = format.formatInterim(connection);
                for (final FlowRecordSink sink : to)
                {
                    sink.write(record);
                }
            }
        };
    }

    private static void write(
        final ConnectionListener before, final FlowRecordFormat format, final FlowRecordSink[] to,
        final TcpConnection connection)
    {
        if (before != null)
        {
            before.onConnectionEnd(connection);
        }
        final AsciiRecord record = format.format(connection);
        for (final FlowRecordSink sink : to)
        {
            sink.write(record);
        }
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
