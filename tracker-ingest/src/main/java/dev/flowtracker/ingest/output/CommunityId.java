package dev.flowtracker.ingest.output;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Community ID v1 of a TCP connection (https://github.com/corelight/community-id-spec): {@code "1:"} and the base64
 * of the SHA-1 of the seed, the two endpoints ordered so that the lower address (then the lower port) comes first,
 * the protocol (6) and a zero byte. Zeek's community-id package and Suricata's eve log write the same value, so
 * records can be joined with theirs, and two taps that see one connection give it the same id.
 *
 * <p>Reuses its digest and buffers, so an instance belongs to one thread (one per {@link FlowRecordFormat}) and
 * {@link #append} allocates nothing.
 */
public final class CommunityId
{
    /** Largest seed: the spec hashes it as 16 bits. */
    public static final int MAX_SEED = 0xFFFF;

    private static final byte TCP = 6;
    private static final int DIGEST_BYTES = 20;
    private static final byte[] VERSION = {'1', ':'};

    private final MessageDigest sha1;
    private final Base64.Encoder base64 = Base64.getEncoder();
    /** Seed (2) + two addresses (16 each at most) + protocol, padding (2) + two ports (4). */
    private final byte[] input = new byte[2 + 32 + 2 + 4];
    private final byte[] digest = new byte[DIGEST_BYTES];
    private final byte[] text = new byte[(DIGEST_BYTES + 2) / 3 * 4];

    /** Ids for {@code seed} (0 unless users chose another domain), 0 to {@value #MAX_SEED}. */
    public CommunityId(final int seed)
    {
        if (seed < 0 || seed > MAX_SEED)
        {
            throw new IllegalArgumentException("community id seed must be 0 to " + MAX_SEED + ", was " + seed);
        }
        try
        {
            sha1 = MessageDigest.getInstance("SHA-1");
        }
        catch (final NoSuchAlgorithmException e)
        {
            throw new IllegalStateException("every Java platform has SHA-1", e);
        }
        input[0] = (byte)(seed >>> 8);
        input[1] = (byte)seed;
    }

    /**
     * Appends the id ({@code 1:} and 28 base64 characters) of a TCP connection between address {@code a} (IPv4 in
     * the low 32 bits of {@code aLow}; IPv6 as two big-endian halves) and port {@code aPort}, and {@code b}; either
     * order gives the same id.
     */
    public void append(
        final AsciiRecord out, final int ipVersion, final long aHigh, final long aLow, final int aPort,
        final long bHigh, final long bLow, final int bPort)
    {
        int order = ipVersion == 4 ? Long.compareUnsigned(aLow & 0xFFFF_FFFFL, bLow & 0xFFFF_FFFFL) :
            Long.compareUnsigned(aHigh, bHigh);
        if (order == 0 && ipVersion != 4)
        {
            order = Long.compareUnsigned(aLow, bLow);
        }
        final boolean aFirst = order < 0 || order == 0 && aPort < bPort;
        int at = 2;
        at = putAddress(ipVersion, aFirst ? aHigh : bHigh, aFirst ? aLow : bLow, at);
        at = putAddress(ipVersion, aFirst ? bHigh : aHigh, aFirst ? bLow : aLow, at);
        input[at++] = TCP;
        input[at++] = 0;
        at = putShort(aFirst ? aPort : bPort, at);
        at = putShort(aFirst ? bPort : aPort, at);
        sha1.update(input, 0, at);
        try
        {
            sha1.digest(digest, 0, DIGEST_BYTES);
        }
        catch (final DigestException e)
        {
            throw new IllegalStateException("the digest buffer holds a SHA-1 digest", e);
        }
        final int length = base64.encode(digest, text);
        out.append(VERSION).append(text, 0, length);
    }

    private int putAddress(final int ipVersion, final long high, final long low, final int at)
    {
        if (ipVersion == 4)
        {
            return putInt((int)low, at);
        }
        return putInt((int)low, putInt((int)(low >>> 32), putInt((int)high, putInt((int)(high >>> 32), at))));
    }

    private int putInt(final int value, final int at)
    {
        return putShort(value, putShort(value >>> 16, at));
    }

    private int putShort(final int value, final int at)
    {
        input[at] = (byte)(value >>> 8);
        input[at + 1] = (byte)value;
        return at + 2;
    }
}
