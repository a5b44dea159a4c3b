package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.FlowHash;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.ZeekSummary;

/**
 * Formats one connection as a JSON object on one line, with Zeek conn.log field names where Zeek has them and our
 * extension object {@code tcp}; the schema is written down in {@code docs/flow-record.md}. Reuses one builder, so
 * an instance belongs to one thread.
 */
public final class FlowRecordFormat
{
    private static final char[] BASE62 =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final int UID_LENGTH = 17;
    /** values() makes a new array on every call. */
    private static final AnalysisFlag[] FLAGS = AnalysisFlag.values();

    private final AsciiRecord line = new AsciiRecord(2048);

    /**
     * Formats the record, without the trailing newline, into this format's reusable buffer (nothing is allocated);
     * the result is valid until the next call.
     */
    public AsciiRecord format(final TcpConnection c)
    {
        final AsciiRecord out = line.clear();
        final TcpEndpoint orig = c.originator();
        final TcpEndpoint resp = c.responder();
        out.append("{\"ts\":");
        appendSeconds(out, c.firstTimestampNanos());
        out.append(",\"uid\":\"");
        appendUid(out, c);
        out.append("\",\"id.orig_h\":\"");
        AddressFormat.append(out, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow());
        out.append("\",\"id.orig_p\":").append(c.originatorPort());
        out.append(",\"id.resp_h\":\"");
        AddressFormat.append(out, c.ipVersion(), c.responderAddressHigh(), c.responderAddressLow());
        out.append("\",\"id.resp_p\":").append(c.responderPort());
        final ZeekSummary zeek = c.zeek();
        out.append(",\"proto\":\"tcp\",\"duration\":");
        if (zeek.created())
        {
            appendSeconds(out, zeek.lastNanos() - zeek.startNanos());
        }
        else
        {
            appendSeconds(out, c.lastTimestampNanos() - c.firstTimestampNanos());
        }
        out.append(",\"orig_bytes\":").appendUnsigned(zeek.origBytes());
        out.append(",\"resp_bytes\":").appendUnsigned(zeek.respBytes());
        out.append(",\"conn_state\":");
        appendOptionalString(out, zeek.connState());
        out.append(",\"missed_bytes\":").append(zeek.missedBytes());
        out.append(",\"history\":");
        if (zeek.historyLength() == 0)
        {
            out.append("null");
        }
        else
        {
            out.append('"');
            for (int i = 0; i < zeek.historyLength(); i++)
            {
                out.append((char)zeek.historyLetter(i));
            }
            out.append('"');
        }
        out.append(",\"orig_pkts\":").append(orig.packets());
        out.append(",\"orig_ip_bytes\":").append(orig.ipBytes());
        out.append(",\"resp_pkts\":").append(resp.packets());
        out.append(",\"resp_ip_bytes\":").append(resp.ipBytes());
        out.append(",\"tcp\":{\"orig\":");
        appendEndpoint(out, orig);
        out.append(",\"resp\":");
        appendEndpoint(out, resp);
        out.append(",\"initial_rtt\":");
        appendOptionalSeconds(out, c.initialRttNanos());
        if (c.endReason() == null)
        {
            out.append(",\"end_reason\":null"); // still open: a live or checkpointed connection
        }
        else
        {
            out.append(",\"end_reason\":\"").append(c.endReason().label()).append('"');
        }
        if (zeek.historyTruncated())
        {
            out.append(",\"history_truncated\":true");
        }
        if (c.tunnelId() >= 0)
        {
            out.append(",\"vni\":").append(c.tunnelId());
        }
        out.append("}}");
        return out;
    }

    private static void appendEndpoint(final AsciiRecord out, final TcpEndpoint e)
    {
        out.append("{\"state\":\"").append(e.state().name()).append('"');
        out.append(",\"isn\":");
        if (e.isnSeen())
        {
            out.append(e.isn());
        }
        else
        {
            out.append("null");
        }
        out.append(",\"syn\":").append(e.synCount());
        out.append(",\"fin\":").append(e.finCount());
        out.append(",\"rst\":").append(e.rstCount());
        out.append(",\"payload_bytes\":").append(e.payloadBytes());
        out.append(",\"sequence_bytes\":").append(e.sequenceSpace());
        out.append(",\"max_bytes_in_flight\":").append(e.maxBytesInFlight());
        out.append(",\"mss\":");
        appendOptional(out, e.mss());
        out.append(",\"window_scale\":");
        appendOptional(out, e.windowScale());
        out.append(",\"sack_permitted\":").append(e.sackPermitted());
        out.append(",\"timestamps\":").append(e.timestampsOffered());
        out.append(",\"rtt\":{\"samples\":").append(e.rttSamples()).append(",\"min\":");
        appendOptionalSeconds(out, e.rttMinNanos());
        out.append(",\"mean\":");
        appendOptionalSeconds(out, e.rttMeanNanos());
        out.append(",\"max\":");
        appendOptionalSeconds(out, e.rttMaxNanos());
        out.append("},\"security\":{\"outside_window\":").append(e.outsideWindow());
        out.append(",\"rst_outside_window\":").append(e.rstOutsideWindow());
        out.append(",\"data_after_rst\":").append(e.dataAfterRst()).append('}');
        out.append(",\"analysis\":{");
        for (final AnalysisFlag flag : FLAGS)
        {
            if (flag.ordinal() > 0)
            {
                out.append(',');
            }
            out.append('"').append(flag.label()).append("\":").append(e.analysisCount(flag));
        }
        out.append("}}");
    }

    /** Appends a JSON string of letters and digits (no escaping needed), or null. */
    private static void appendOptionalString(final AsciiRecord out, final String value)
    {
        if (value == null)
        {
            out.append("null");
        }
        else
        {
            out.append('"').append(value).append('"');
        }
    }

    private static void appendOptional(final AsciiRecord out, final int value)
    {
        if (value >= 0)
        {
            out.append(value);
        }
        else
        {
            out.append("null");
        }
    }

    private static void appendOptionalSeconds(final AsciiRecord out, final long nanos)
    {
        if (nanos >= 0)
        {
            appendSeconds(out, nanos);
        }
        else
        {
            out.append("null");
        }
    }

    /** Seconds with nanosecond precision, trailing zeros kept to microseconds: 1700000000.123456. */
    static void appendSeconds(final AsciiRecord out, final long nanos)
    {
        final long seconds = Math.floorDiv(nanos, 1_000_000_000L);
        final long fraction = Math.floorMod(nanos, 1_000_000_000L);
        out.append(seconds).append('.');
        final boolean submicro = fraction % 1000 != 0;
        out.appendDigits(submicro ? fraction : fraction / 1000, submicro ? 9 : 6);
    }

    /** The connection's uid, as its record shows it. */
    public static String uid(final TcpConnection c)
    {
        final AsciiRecord out = new AsciiRecord(UID_LENGTH + 1);
        appendUid(out, c);
        return out.toString();
    }

    /**
     * A Zeek-style uid ("C" + base62) derived from the connection's identity, first packet time and generation,
     * so the same input always yields the same uids, whichever worker handled the connection.
     */
    private static void appendUid(final AsciiRecord out, final TcpConnection c)
    {
        long h1 = FlowHash.mix(c.originatorAddressHigh() ^ FlowHash.mix(c.originatorAddressLow()) ^
            ((long)c.originatorPort() << 32 | c.responderPort()));
        h1 = FlowHash.mix(h1 ^ c.responderAddressHigh() ^ FlowHash.mix(c.responderAddressLow() + c.tunnelId()));
        long h2 = FlowHash.mix(h1 ^ FlowHash.mix(c.firstTimestampNanos()) ^ (c.generation() * 0x9E3779B97F4A7C15L));
        h1 = FlowHash.mix(h1 + h2);
        out.append('C');
        for (int i = 0; i < UID_LENGTH; i++)
        {
            final long source = i < 9 ? h1 : h2;
            out.append(BASE62[(int)Long.remainderUnsigned(source, 62)]);
            if (i < 9)
            {
                h1 = Long.divideUnsigned(h1, 62);
            }
            else
            {
                h2 = Long.divideUnsigned(h2, 62);
            }
        }
    }
}
