package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.output.AsciiRecord;
import dev.flowtracker.ingest.output.FlowRecordFormat;

import java.nio.charset.StandardCharsets;

/**
 * The last records one shard worker ended (its share of {@value #PER_PROCESS} per process, {@link #perWorker}), so
 * that {@code /flows/{uid}} still answers after a connection closed and {@code /flows?ended=true} lists them. A ring
 * of slots, each the record's bytes and its {@link FlowFacts}; the newest overwrites the oldest. Slots and their
 * buffers are made the first time they are used and reused after that (a buffer grows when a longer record comes):
 * once the ring has gone round, keeping a record allocates nothing. The record is formatted a second time for this
 * (with the worker's query format), once per ended connection, never per packet. At about 1.7 KB a slot the ring
 * holds at most some 17 MB of heap per process.
 *
 * <p>Belongs to its worker's thread: written when a connection ends, read when a query is answered. Once the worker
 * has finished (and says so through a volatile write) any thread may read it.
 */
final class EndedFlows
{
    /** Records kept per process, shared out among the shard workers. */
    static final int PER_PROCESS = 10_000;

    private static final byte[] UID_KEY = ",\"uid\":\"".getBytes(StandardCharsets.US_ASCII);

    private final int capacity;
    private final FlowFacts[] facts;
    private final byte[][] records;
    private final int[] lengths;
    private long added;

    /** Each of {@code workers} workers' share of {@link #PER_PROCESS}. */
    static int perWorker(final int workers)
    {
        return (PER_PROCESS + workers - 1) / workers;
    }

    EndedFlows(final int capacity)
    {
        this.capacity = capacity;
        this.facts = new FlowFacts[capacity];
        this.records = new byte[capacity][];
        this.lengths = new int[capacity];
    }

    /** Keeps {@code c}'s record (formatted with {@code format}) and facts, dropping the oldest when full. */
    void add(final TcpConnection c, final FlowRecordFormat format)
    {
        if (capacity == 0)
        {
            return;
        }
        final int slot = (int)(added % capacity);
        if (facts[slot] == null)
        {
            facts[slot] = new FlowFacts();
        }
        facts[slot].fill(c);
        final AsciiRecord record = format.format(c);
        final int length = record.length();
        if (records[slot] == null || records[slot].length < length)
        {
            records[slot] = new byte[length + length / 4];
        }
        System.arraycopy(record.bytes(), 0, records[slot], 0, length);
        lengths[slot] = length;
        added++;
    }

    /** Records kept now. */
    int size()
    {
        return (int)Math.min(added, capacity);
    }

    /** The facts of the {@code i}th record kept (0 the newest). */
    FlowFacts facts(final int i)
    {
        return facts[slot(i)];
    }

    /** The {@code i}th record kept (0 the newest), as text. */
    String record(final int i)
    {
        final int slot = slot(i);
        return new String(records[slot], 0, lengths[slot], StandardCharsets.US_ASCII);
    }

    /** Whether the {@code i}th record kept (0 the newest) has uid {@code uid}, read from the record itself. */
    boolean hasUid(final int i, final String uid)
    {
        final int slot = slot(i);
        final byte[] record = records[slot];
        final int length = lengths[slot];
        final int start = indexOf(record, length, UID_KEY);
        if (start < 0 || start + UID_KEY.length + uid.length() >= length)
        {
            return false;
        }
        final int from = start + UID_KEY.length;
        for (int k = 0; k < uid.length(); k++)
        {
            if (record[from + k] != uid.charAt(k))
            {
                return false;
            }
        }
        return record[from + uid.length()] == '"';
    }

    private int slot(final int i)
    {
        return (int)((added - 1 - i) % capacity);
    }

    private static int indexOf(final byte[] text, final int length, final byte[] key)
    {
        outer:
        for (int i = 0; i + key.length <= length; i++)
        {
            for (int k = 0; k < key.length; k++)
            {
                if (text[i + k] != key[k])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
