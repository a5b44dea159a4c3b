package dev.flowtracker.ingest.output;

import dev.flowtracker.core.flow.FlowHash;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.nio.charset.StandardCharsets;

/**
 * Formats one connection as a JSON object on one line, with Zeek conn.log field names where Zeek has them and our
 * extension object {@code tcp}; the schema is written down in {@code docs/flow-record.md}. Reuses one builder, so
 * an instance belongs to one thread.
 */
public final class FlowRecordFormat implements RecordFormatter
{
    private static final char[] BASE62 =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final int UID_LENGTH = 17;
    /** values() makes a new array on every call. */
    private static final AnalysisFlag[] FLAGS = AnalysisFlag.values();
    /** Per flag, its key in the analysis object: {@code "label":}, after a comma but for the first. */
    private static final byte[][] FLAG_KEYS = new byte[FLAGS.length][];
    /** Per RFC 793 state, its name and the closing quote. */
    private static final byte[][] STATE_VALUES = new byte[TcpState.values().length][];

    static
    {
        for (final AnalysisFlag flag : FLAGS)
        {
            FLAG_KEYS[flag.ordinal()] = ascii((flag.ordinal() > 0 ? ",\"" : "\"") + flag.label() + "\":");
        }
        for (final TcpState state : TcpState.values())
        {
            STATE_VALUES[state.ordinal()] = ascii(state.name() + "\"");
        }
    }

    // The record's fixed text, as ASCII bytes once: appended with one array copy each.
    private static final byte[] TS = ascii("{\"ts\":");
    private static final byte[] UID = ascii(",\"uid\":\"");
    private static final byte[] ID_ORIG_H = ascii("\",\"id.orig_h\":\"");
    private static final byte[] ID_ORIG_P = ascii("\",\"id.orig_p\":");
    private static final byte[] ID_RESP_H = ascii(",\"id.resp_h\":\"");
    private static final byte[] ID_RESP_P = ascii("\",\"id.resp_p\":");
    private static final byte[] PROTO_TCP_COMMUNITY_ID = ascii(",\"proto\":\"tcp\",\"community_id\":\"");
    private static final byte[] DURATION = ascii("\",\"duration\":");
    private static final byte[] ORIG_BYTES = ascii(",\"orig_bytes\":");
    private static final byte[] RESP_BYTES = ascii(",\"resp_bytes\":");
    private static final byte[] CONN_STATE = ascii(",\"conn_state\":");
    private static final byte[] MISSED_BYTES = ascii(",\"missed_bytes\":");
    private static final byte[] HISTORY = ascii(",\"history\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[] ORIG_PKTS = ascii(",\"orig_pkts\":");
    private static final byte[] ORIG_IP_BYTES = ascii(",\"orig_ip_bytes\":");
    private static final byte[] RESP_PKTS = ascii(",\"resp_pkts\":");
    private static final byte[] RESP_IP_BYTES = ascii(",\"resp_ip_bytes\":");
    private static final byte[] TCP_ORIG = ascii(",\"tcp\":{\"orig\":");
    private static final byte[] RESP = ascii(",\"resp\":");
    private static final byte[] INITIAL_RTT = ascii(",\"initial_rtt\":");
    private static final byte[] END_REASON_NULL = ascii(",\"end_reason\":null");
    private static final byte[] INTERIM_TRUE = ascii(",\"interim\":true");
    private static final byte[] END_REASON = ascii(",\"end_reason\":\"");
    private static final byte[] HISTORY_TRUNCATED_TRUE = ascii(",\"history_truncated\":true");
    private static final byte[] VNI = ascii(",\"vni\":");
    private static final byte[] CLOSE_BOTH = ascii("}}");
    private static final byte[] STATE = ascii("{\"state\":\"");
    private static final byte[] ISN = ascii(",\"isn\":");
    private static final byte[] SYN = ascii(",\"syn\":");
    private static final byte[] FIN = ascii(",\"fin\":");
    private static final byte[] RST = ascii(",\"rst\":");
    private static final byte[] PAYLOAD_BYTES = ascii(",\"payload_bytes\":");
    private static final byte[] SEQUENCE_BYTES = ascii(",\"sequence_bytes\":");
    private static final byte[] MAX_BYTES_IN_FLIGHT = ascii(",\"max_bytes_in_flight\":");
    private static final byte[] MSS = ascii(",\"mss\":");
    private static final byte[] WINDOW_SCALE = ascii(",\"window_scale\":");
    private static final byte[] SACK_PERMITTED = ascii(",\"sack_permitted\":");
    private static final byte[] TIMESTAMPS = ascii(",\"timestamps\":");
    private static final byte[] RTT_SAMPLES = ascii(",\"rtt\":{\"samples\":");
    private static final byte[] MIN = ascii(",\"min\":");
    private static final byte[] MEAN = ascii(",\"mean\":");
    private static final byte[] MAX = ascii(",\"max\":");
    private static final byte[] SECURITY_OUTSIDE_WINDOW = ascii("},\"security\":{\"outside_window\":");
    private static final byte[] RST_OUTSIDE_WINDOW = ascii(",\"rst_outside_window\":");
    private static final byte[] DATA_AFTER_RST = ascii(",\"data_after_rst\":");
    private static final byte[] ANALYSIS = ascii(",\"analysis\":{");

    private final AsciiRecord line = new AsciiRecord(2048);
    private final CommunityId communityId;
    /** {@code ,"tap":"NAME"}, or nothing. */
    private final byte[] tapField;

    /** Records with seed 0 and no tap name. */
    public FlowRecordFormat()
    {
        this(RecordFields.DEFAULTS);
    }

    public FlowRecordFormat(final RecordFields fields)
    {
        this.communityId = new CommunityId(fields.communityIdSeed());
        this.tapField = fields.tapName() == null ? new byte[0] : ascii(",\"tap\":\"" + fields.tapName() + "\"");
    }

    /**
     * Formats the record, without the trailing newline, into this format's reusable buffer (nothing is allocated);
     * the result is valid until the next call.
     */
    @Override
    public AsciiRecord format(final TcpConnection c)
    {
        return format(c, false);
    }

    /**
     * As {@link #format}, for an interim record of a connection still open: the same fields, counts so far, and
     * {@code "interim":true} last (a final record has no such field).
     */
    public AsciiRecord formatInterim(final TcpConnection c)
    {
        return format(c, true);
    }

    private AsciiRecord format(final TcpConnection c, final boolean interim)
    {
        final AsciiRecord out = line.clear();
        final TcpEndpoint orig = c.originator();
        final TcpEndpoint resp = c.responder();
        out.append(TS);
        appendSeconds(out, c.firstTimestampNanos());
        out.append(UID);
        appendUid(out, c);
        out.append(ID_ORIG_H);
        AddressFormat.append(out, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow());
        out.append(ID_ORIG_P).append(c.originatorPort());
        out.append(ID_RESP_H);
        AddressFormat.append(out, c.ipVersion(), c.responderAddressHigh(), c.responderAddressLow());
        out.append(ID_RESP_P).append(c.responderPort());
        final ZeekSummary zeek = c.zeek();
        out.append(PROTO_TCP_COMMUNITY_ID);
        communityId.append(out, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow(),
            c.originatorPort(), c.responderAddressHigh(), c.responderAddressLow(), c.responderPort());
        out.append(DURATION);
        appendSeconds(out, c.durationNanos());
        out.append(ORIG_BYTES).appendUnsigned(zeek.origBytes());
        out.append(RESP_BYTES).appendUnsigned(zeek.respBytes());
        out.append(CONN_STATE);
        appendOptionalString(out, zeek.connState());
        out.append(MISSED_BYTES).append(zeek.missedBytes());
        out.append(HISTORY);
        if (zeek.historyLength() == 0)
        {
            out.append(NULL);
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
        out.append(ORIG_PKTS).append(orig.packets());
        out.append(ORIG_IP_BYTES).append(orig.ipBytes());
        out.append(RESP_PKTS).append(resp.packets());
        out.append(RESP_IP_BYTES).append(resp.ipBytes());
        out.append(TCP_ORIG);
        appendEndpoint(out, orig);
        out.append(RESP);
        appendEndpoint(out, resp);
        out.append(INITIAL_RTT);
        appendOptionalSeconds(out, c.initialRttNanos());
        if (c.endReason() == null)
        {
            out.append(END_REASON_NULL); // still open: a live or checkpointed connection
        }
        else
        {
            out.append(END_REASON).append(c.endReason().label()).append('"');
        }
        if (zeek.historyTruncated())
        {
            out.append(HISTORY_TRUNCATED_TRUE);
        }
        if (c.tunnelId() >= 0)
        {
            out.append(VNI).append(c.tunnelId());
        }
        out.append('}').append(tapField);
        if (interim)
        {
            out.append(INTERIM_TRUE);
        }
        out.append('}');
        return out;
    }

    private static void appendEndpoint(final AsciiRecord out, final TcpEndpoint e)
    {
        out.append(STATE).append(STATE_VALUES[e.state().ordinal()]);
        out.append(ISN);
        if (e.isnSeen())
        {
            out.append(e.isn());
        }
        else
        {
            out.append(NULL);
        }
        out.append(SYN).append(e.synCount());
        out.append(FIN).append(e.finCount());
        out.append(RST).append(e.rstCount());
        out.append(PAYLOAD_BYTES).append(e.payloadBytes());
        out.append(SEQUENCE_BYTES).append(e.sequenceSpace());
        out.append(MAX_BYTES_IN_FLIGHT).append(e.maxBytesInFlight());
        out.append(MSS);
        appendOptional(out, e.mss());
        out.append(WINDOW_SCALE);
        appendOptional(out, e.windowScale());
        out.append(SACK_PERMITTED).append(e.sackPermitted());
        out.append(TIMESTAMPS).append(e.timestampsOffered());
        out.append(RTT_SAMPLES).append(e.rttSamples()).append(MIN);
        appendOptionalSeconds(out, e.rttMinNanos());
        out.append(MEAN);
        appendOptionalSeconds(out, e.rttMeanNanos());
        out.append(MAX);
        appendOptionalSeconds(out, e.rttMaxNanos());
        out.append(SECURITY_OUTSIDE_WINDOW).append(e.outsideWindow());
        out.append(RST_OUTSIDE_WINDOW).append(e.rstOutsideWindow());
        out.append(DATA_AFTER_RST).append(e.dataAfterRst()).append('}');
        out.append(ANALYSIS);
        for (final AnalysisFlag flag : FLAGS)
        {
            out.append(FLAG_KEYS[flag.ordinal()]).append(e.analysisCount(flag));
        }
        out.append(CLOSE_BOTH);
    }

    /** Appends a JSON string of letters and digits (no escaping needed), or null. */
    private static void appendOptionalString(final AsciiRecord out, final String value)
    {
        if (value == null)
        {
            out.append(NULL);
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
            out.append(NULL);
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
            out.append(NULL);
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

    private static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
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
    static void appendUid(final AsciiRecord out, final TcpConnection c)
    {
        long h1 = FlowHash.mix(c.originatorAddressHigh() ^ FlowHash.mix(c.originatorAddressLow()) ^
            ((long)c.originatorPort() << 32 | c.responderPort()));
        h1 = FlowHash.mix(h1 ^ c.responderAddressHigh() ^ FlowHash.mix(c.responderAddressLow() + c.tunnelId()));
        final long h2 =
            FlowHash.mix(h1 ^ FlowHash.mix(c.firstTimestampNanos()) ^ (c.generation() * 0x9E3779B97F4A7C15L));
        h1 = FlowHash.mix(h1 + h2);
        out.append('C');
        // Base-62 digits of h1 (9) then h2 (8), least significant first, read as unsigned 64-bit numbers: after
        // one unsigned division each is below 2^63, so the rest are signed divisions by a constant (a multiply).
        long rest = h1;
        for (int i = 0; i < UID_LENGTH; i++)
        {
            if (i == 0 || i == 9)
            {
                final long source = i == 0 ? h1 : h2;
                out.append(BASE62[(int)Long.remainderUnsigned(source, 62)]);
                rest = Long.divideUnsigned(source, 62);
            }
            else
            {
                out.append(BASE62[(int)(rest % 62)]);
                rest /= 62;
            }
        }
    }
}
