package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The flow record as flat columns, the one list the text formats ({@code tsv}, {@code zeek}, {@code table}) and
 * {@code --fields} use: the JSON record's values in its order, a nested value named by its path
 * ({@code tcp.orig.analysis.retransmission}), with its Zeek type (conn.log's where conn.log has the column), and a
 * few derived columns for people at the end ({@code orig}, {@code resp}, {@code retrans}, {@code rtt}). A
 * test holds the non-derived columns to the JSON record's keys and values, so the two cannot drift apart.
 *
 * <p>Immutable after class initialisation; the writers allocate nothing and run on the formatting worker.
 */
public final class RecordColumns
{
    /** IP's protocol number of TCP: the records' {@code ip_proto}. */
    static final int TCP_PROTOCOL = 6;

    /** How a value is written: quoted in JSON and left-aligned in a table, or neither. */
    public enum Kind
    {
        NUMBER,
        TEXT,
        BOOL
    }

    /** Writes one column's value; false (and nothing written) when the record has no value there. */
    @FunctionalInterface
    public interface ValueWriter
    {
        boolean write(AsciiRecord out, TcpConnection c, TextRecordFormat context);
    }

    /** One value of an endpoint (orig or resp side). */
    @FunctionalInterface
    private interface EndpointWriter
    {
        boolean write(AsciiRecord out, TcpEndpoint e, TextRecordFormat context);
    }

    /**
     * One column.
     *
     * @param name     the name --fields, the TSV header and Zeek's #fields use.
     * @param zeekType the type in Zeek's #types line.
     * @param kind     how the value is quoted and aligned.
     * @param width    the table's column width (at least the name's length).
     * @param derived  not a field of the JSON record, computed from it for people.
     * @param writer   writes the value.
     */
    public record Column(String name, String zeekType, Kind kind, int width, boolean derived, ValueWriter writer)
    {
    }

    private static final List<Column> ALL;
    private static final Map<String, Column> BY_NAME;

    static
    {
        final List<Column> all = new ArrayList<>();
        connection(all);
        endpoint(all, "tcp.orig.", true);
        endpoint(all, "tcp.resp.", false);
        all.add(column("tcp.initial_rtt", "interval", Kind.NUMBER, 9, (o, c, x) -> seconds(o, c.initialRttNanos())));
        all.add(column("tcp.end_reason", "string", Kind.TEXT, 12,
            (o, c, x) -> c.endReason() != null && text(o, c.endReason().label())));
        all.add(column("tcp.history_truncated", "bool", Kind.BOOL, 5,
            (o, c, x) -> x.appendBool(o, c.zeek().historyTruncated())));
        all.add(column("tcp.vni", "count", Kind.NUMBER, 8, (o, c, x) -> c.tunnelId() >= 0 && number(o, c.tunnelId())));
        all.add(column("tap", "string", Kind.TEXT, 12, (o, c, x) -> x.appendTap(o)));
        derived(all);
        ALL = Collections.unmodifiableList(all);
        final Map<String, Column> byName = new LinkedHashMap<>();
        for (final Column column : all)
        {
            byName.put(column.name(), column);
        }
        BY_NAME = Collections.unmodifiableMap(byName);
    }

    private RecordColumns()
    {
    }

    /** Every column, the record's in its JSON order, then the derived ones. */
    public static List<Column> all()
    {
        return ALL;
    }

    /** The column named {@code name}, or null. */
    public static Column named(final String name)
    {
        return BY_NAME.get(name);
    }

    /** conn.log's columns, in the record's order, with Zeek's types. */
    private static void connection(final List<Column> all)
    {
        all.add(column("ts", "time", Kind.NUMBER, 17, (o, c, x) -> seconds(o, c.firstTimestampNanos())));
        all.add(column("uid", "string", Kind.TEXT, 18, (o, c, x) -> uid(o, c)));
        all.add(column("id.orig_h", "addr", Kind.TEXT, 15, (o, c, x) -> address(o, c, true)));
        all.add(column("id.orig_p", "port", Kind.NUMBER, 5, (o, c, x) -> number(o, c.originatorPort())));
        all.add(column("id.resp_h", "addr", Kind.TEXT, 15, (o, c, x) -> address(o, c, false)));
        all.add(column("id.resp_p", "port", Kind.NUMBER, 5, (o, c, x) -> number(o, c.responderPort())));
        all.add(column("proto", "enum", Kind.TEXT, 5, (o, c, x) -> text(o, "tcp")));
        all.add(column("ip_proto", "count", Kind.NUMBER, 3, (o, c, x) -> number(o, TCP_PROTOCOL)));
        all.add(column("community_id", "string", Kind.TEXT, 30, (o, c, x) -> x.appendCommunityId(o, c)));
        all.add(column("duration", "interval", Kind.NUMBER, 10, (o, c, x) -> seconds(o, c.durationNanos())));
        all.add(column("orig_bytes", "count", Kind.NUMBER, 10, (o, c, x) -> unsigned(o, c.zeek().origBytes())));
        all.add(column("resp_bytes", "count", Kind.NUMBER, 10, (o, c, x) -> unsigned(o, c.zeek().respBytes())));
        all.add(column("conn_state", "string", Kind.TEXT, 6,
            (o, c, x) -> c.zeek().connState() != null && text(o, c.zeek().connState())));
        all.add(column("local_orig", "bool", Kind.BOOL, 5, (o, c, x) -> x.appendLocal(o, c, true)));
        all.add(column("local_resp", "bool", Kind.BOOL, 5, (o, c, x) -> x.appendLocal(o, c, false)));
        all.add(column("missed_bytes", "count", Kind.NUMBER, 8, (o, c, x) -> number(o, c.zeek().missedBytes())));
        all.add(column("history", "string", Kind.TEXT, 12, (o, c, x) -> history(o, c.zeek())));
        all.add(column("orig_pkts", "count", Kind.NUMBER, 8, (o, c, x) -> number(o, c.originator().packets())));
        all.add(column("orig_ip_bytes", "count", Kind.NUMBER, 10, (o, c, x) -> number(o, c.originator().ipBytes())));
        all.add(column("resp_pkts", "count", Kind.NUMBER, 8, (o, c, x) -> number(o, c.responder().packets())));
        all.add(column("resp_ip_bytes", "count", Kind.NUMBER, 10, (o, c, x) -> number(o, c.responder().ipBytes())));
    }

    /** The {@code tcp.orig} or {@code tcp.resp} object's values, nested objects flattened into the name. */
    private static void endpoint(final List<Column> all, final String prefix, final boolean orig)
    {
        side(all, prefix, orig, "state", "string", Kind.TEXT, 12, (o, e, x) -> text(o, e.state().name()));
        side(all, prefix, orig, "isn", "count", Kind.NUMBER, 10, (o, e, x) -> e.isnSeen() && number(o, e.isn()));
        side(all, prefix, orig, "syn", "count", Kind.NUMBER, 4, (o, e, x) -> number(o, e.synCount()));
        side(all, prefix, orig, "fin", "count", Kind.NUMBER, 4, (o, e, x) -> number(o, e.finCount()));
        side(all, prefix, orig, "rst", "count", Kind.NUMBER, 4, (o, e, x) -> number(o, e.rstCount()));
        side(all, prefix, orig, "payload_bytes", "count", Kind.NUMBER, 10, (o, e, x) -> number(o, e.payloadBytes()));
        side(all, prefix, orig, "sequence_bytes", "count", Kind.NUMBER, 10,
            (o, e, x) -> number(o, e.sequenceSpace()));
        side(all, prefix, orig, "max_bytes_in_flight", "count", Kind.NUMBER, 10,
            (o, e, x) -> number(o, e.maxBytesInFlight()));
        side(all, prefix, orig, "mss", "count", Kind.NUMBER, 5, (o, e, x) -> e.mss() >= 0 && number(o, e.mss()));
        side(all, prefix, orig, "window_scale", "count", Kind.NUMBER, 3,
            (o, e, x) -> e.windowScale() >= 0 && number(o, e.windowScale()));
        side(all, prefix, orig, "sack_permitted", "bool", Kind.BOOL, 5,
            (o, e, x) -> x.appendBool(o, e.sackPermitted()));
        side(all, prefix, orig, "timestamps", "bool", Kind.BOOL, 5,
            (o, e, x) -> x.appendBool(o, e.timestampsOffered()));
        side(all, prefix, orig, "rtt.samples", "count", Kind.NUMBER, 6, (o, e, x) -> number(o, e.rttSamples()));
        side(all, prefix, orig, "rtt.min", "interval", Kind.NUMBER, 9, (o, e, x) -> seconds(o, e.rttMinNanos()));
        side(all, prefix, orig, "rtt.mean", "interval", Kind.NUMBER, 9, (o, e, x) -> seconds(o, e.rttMeanNanos()));
        side(all, prefix, orig, "rtt.max", "interval", Kind.NUMBER, 9, (o, e, x) -> seconds(o, e.rttMaxNanos()));
        side(all, prefix, orig, "security.outside_window", "count", Kind.NUMBER, 6,
            (o, e, x) -> number(o, e.outsideWindow()));
        side(all, prefix, orig, "security.rst_outside_window", "count", Kind.NUMBER, 6,
            (o, e, x) -> number(o, e.rstOutsideWindow()));
        side(all, prefix, orig, "security.data_after_rst", "count", Kind.NUMBER, 6,
            (o, e, x) -> number(o, e.dataAfterRst()));
        for (final AnalysisFlag flag : AnalysisFlag.values())
        {
            side(all, prefix, orig, "analysis." + flag.label(), "count", Kind.NUMBER, 6,
                (o, e, x) -> number(o, e.analysisCount(flag)));
        }
    }

    /** Columns for people, not in the JSON record: endpoints as addr:port, retransmissions of both sides, RTT. */
    private static void derived(final List<Column> all)
    {
        all.add(new Column("orig", "string", Kind.TEXT, 21, true, (o, c, x) -> endpoint(o, c, true)));
        all.add(new Column("resp", "string", Kind.TEXT, 21, true, (o, c, x) -> endpoint(o, c, false)));
        all.add(new Column("retrans", "count", Kind.NUMBER, 7, true,
            (o, c, x) -> number(o, c.analysisCount(AnalysisFlag.RETRANSMISSION))));
        all.add(new Column("rtt", "interval", Kind.NUMBER, 9, true, (o, c, x) -> seconds(o, c.initialRttNanos())));
    }

    private static Column column(final String name, final String type, final Kind kind, final int width,
        final ValueWriter writer)
    {
        return new Column(name, type, kind, Math.max(width, name.length()), false, writer);
    }

    private static void side(final List<Column> all, final String prefix, final boolean orig, final String name,
        final String type, final Kind kind, final int width, final EndpointWriter writer)
    {
        final ValueWriter value = orig ? (o, c, x) -> writer.write(o, c.originator(), x) :
            (o, c, x) -> writer.write(o, c.responder(), x);
        all.add(column(prefix + name, type, kind, width, value));
    }


    private static boolean number(final AsciiRecord out, final long value)
    {
        out.append(value);
        return true;
    }

    private static boolean unsigned(final AsciiRecord out, final long value)
    {
        out.appendUnsigned(value);
        return true;
    }

    private static boolean text(final AsciiRecord out, final String value)
    {
        out.append(value);
        return true;
    }

    /** Seconds as the JSON record writes them; a negative value is unset. */
    private static boolean seconds(final AsciiRecord out, final long nanos)
    {
        if (nanos < 0)
        {
            return false;
        }
        FlowRecordFormat.appendSeconds(out, nanos);
        return true;
    }

    private static boolean uid(final AsciiRecord out, final TcpConnection c)
    {
        FlowRecordFormat.appendUid(out, c);
        return true;
    }

    private static boolean address(final AsciiRecord out, final TcpConnection c, final boolean orig)
    {
        if (orig)
        {
            AddressFormat.append(out, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow());
        }
        else
        {
            AddressFormat.append(out, c.ipVersion(), c.responderAddressHigh(), c.responderAddressLow());
        }
        return true;
    }

    /** addr:port, an IPv6 address in brackets. */
    private static boolean endpoint(final AsciiRecord out, final TcpConnection c, final boolean orig)
    {
        final boolean v6 = c.ipVersion() != 4;
        if (v6)
        {
            out.append('[');
        }
        address(out, c, orig);
        if (v6)
        {
            out.append(']');
        }
        out.append(':').append(orig ? c.originatorPort() : c.responderPort());
        return true;
    }

    private static boolean history(final AsciiRecord out, final ZeekSummary zeek)
    {
        if (zeek.historyLength() == 0)
        {
            return false;
        }
        for (int i = 0; i < zeek.historyLength(); i++)
        {
            out.append((char)zeek.historyLetter(i));
        }
        return true;
    }
}
