package dev.flowtracker.ingest.output;

/**
 * A destination of flow records: a file or standard output ({@link RecordWriter}) today, a Kafka topic next. Workers
 * hand each record over with {@link #write}; the sink copies it and does its I/O on its own thread, so a slow or
 * failing destination never stalls tracking, and what it cannot keep is counted, never lost silently.
 * {@link FlowRecords} formats a connection once and hands the same bytes to every sink, so all destinations carry
 * identical lines.
 *
 * <p>{@link #write} may be called from any worker thread; {@link #flush} and {@link #close} from one controlling
 * thread at a time; the counters from any thread.
 */
public interface FlowRecordSink extends AutoCloseable
{
    /** The sink's name in messages and metric labels ({@code file}, {@code stdout}, {@code kafka}). */
    String name();

    /** Hands one record (without its newline) over; the sink copies it before returning. */
    void write(AsciiRecord record);

    /**
     * Waits until every record handed over before this call is delivered (written, or acknowledged by the
     * destination) or the sink has given up on it. Checkpoints call this before they commit: true when every record
     * so far was delivered, so that a restart from the checkpoint loses none.
     */
    boolean flush();

    /** Records delivered. */
    long written();

    /** Records not delivered, all reasons. */
    long lost();

    /**
     * Whether this sink takes the full JSON record whatever {@code --format} says (Kafka: its consumers parse JSON);
     * the others take the records in the chosen layout.
     */
    default boolean jsonOnly()
    {
        return false;
    }

    /**
     * Whether the reader of the sink's stream went away (a closed pipe: {@code tracker analyze x | head -1}): the
     * records since are dropped and not counted as lost, as grep and tshark end quietly then.
     */
    default boolean readerLeft()
    {
        return false;
    }

    /** The first error that stopped the sink, in one line, or null while it works (or retries). */
    String failure();

    /** Delivers what it can of what was handed over (counting the rest as lost) and releases the destination. */
    @Override
    void close();
}
