package dev.flowtracker.bench.capture;

import java.util.HashMap;
import java.util.Map;

/**
 * Moves a frame's outermost IP header into copy {@code k}'s address block and updates every checksum the move
 * touches: the IPv4 header checksum and the TCP, UDP (non-zero) or ICMPv6 checksum, whose pseudo-header holds the
 * addresses. Updates are incremental (RFC 1624): a checksum that was right stays right, one that was wrong in the
 * input stays wrong by the same amount, so every copy analyses like its input. Owned by one thread.
 *
 * <p>Address blocks: every distinct address of the input gets an index (first seen, first); in copy {@code k}
 * IPv4 address {@code i} becomes {@code 10.0.0.0 + k * block + i + 1} ({@code block} a power of two of at least
 * 256 that holds every address), IPv6 address {@code i} becomes {@code fd62:656e:6368:k::i+1}. So copies never
 * share an address, and within a copy two hosts stay two hosts.
 *
 * <p>Link types: Ethernet (with VLAN/QinQ tags), raw IP (101, 12, 14, 228, 229), Linux cooked (SLL, SLL2) and
 * NULL/LOOP. Frames of other link types, non-IP frames and frames cut short inside the IP header are left as they
 * are (and counted by the caller). Tunnelled packets get their outer header moved only.
 */
final class FrameRewriter
{
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final long IPV6_BLOCK_PREFIX = 0xFD62_656E_6368_0000L;
    private static final int IPV4_BASE = 0x0A00_0000;
    /** 10.0.0.0/8: copies times block must fit. */
    private static final long IPV4_SPACE = 1L << 24;
    private static final int MAX_IPV6_COPIES = 1 << 16;
    private static final int PROTOCOL_TCP = 6;
    private static final int PROTOCOL_UDP = 17;
    private static final int PROTOCOL_ICMPV6 = 58;

    private final Map<Integer, Integer> ipv4Index = new HashMap<>();
    private final Map<Ipv6, Integer> ipv6Index = new HashMap<>();
    private int ipv4Block;

    /** Outcome of {@link #rewrite}. */
    enum Outcome
    {
        REWRITTEN,
        /** Not IP, an unsupported link type, or cut short before the addresses: left as it is. */
        UNCHANGED
    }

    /** First pass: learns the frame's addresses (call for every input frame before any {@link #rewrite}). */
    void learn(final byte[] f, final int offset, final int capturedLength, final int linkType)
    {
        final int ip = ipHeader(f, offset, capturedLength, linkType);
        if (ip < 0)
        {
            return;
        }
        if (version(f, ip) == 4)
        {
            ipv4Index.putIfAbsent(InternetChecksum.i32(f, ip + 12), ipv4Index.size());
            ipv4Index.putIfAbsent(InternetChecksum.i32(f, ip + 16), ipv4Index.size());
        }
        else
        {
            ipv6Index.putIfAbsent(Ipv6.at(f, ip + 8), ipv6Index.size());
            ipv6Index.putIfAbsent(Ipv6.at(f, ip + 24), ipv6Index.size());
        }
    }

    /**
     * Fixes the address blocks once every frame has been learnt.
     *
     * @throws IllegalArgumentException when {@code copies} blocks do not fit the address space.
     */
    void plan(final int copies)
    {
        ipv4Block = Math.max(256, Integer.highestOneBit(Math.max(1, ipv4Index.size() + 1)) << 1);
        if (!ipv4Index.isEmpty() && (long)copies * ipv4Block > IPV4_SPACE)
        {
            throw new IllegalArgumentException(copies + " copies of " + ipv4Index.size() + " IPv4 addresses (" +
                ipv4Block + " per copy) do not fit 10.0.0.0/8");
        }
        if (!ipv6Index.isEmpty() && copies > MAX_IPV6_COPIES)
        {
            throw new IllegalArgumentException("at most " + MAX_IPV6_COPIES + " copies of IPv6 traffic, asked " +
                copies);
        }
    }

    int ipv4Addresses()
    {
        return ipv4Index.size();
    }

    int ipv6Addresses()
    {
        return ipv6Index.size();
    }

    /** Rewrites the frame in place for copy {@code copy}. */
    Outcome rewrite(final byte[] f, final int offset, final int capturedLength, final int linkType, final int copy)
    {
        final int ip = ipHeader(f, offset, capturedLength, linkType);
        if (ip < 0)
        {
            return Outcome.UNCHANGED;
        }
        final int end = offset + capturedLength;
        return version(f, ip) == 4 ? rewriteIpv4(f, ip, end, copy) : rewriteIpv6(f, ip, end, copy);
    }

    private Outcome rewriteIpv4(final byte[] f, final int ip, final int end, final int copy)
    {
        final int headerLength = (f[ip] & 0x0F) * 4;
        final long removed = InternetChecksum.add(f, ip + 12, 8, 0);
        InternetChecksum.putI32(f, ip + 12, mapIpv4(InternetChecksum.i32(f, ip + 12), copy));
        InternetChecksum.putI32(f, ip + 16, mapIpv4(InternetChecksum.i32(f, ip + 16), copy));
        final long added = InternetChecksum.add(f, ip + 12, 8, 0);
        if (headerLength >= 20 && ip + headerLength <= end)
        {
            InternetChecksum.putU16(f, ip + 10, InternetChecksum.update(InternetChecksum.u16(f, ip + 10), removed, 4,
                added));
        }
        final boolean laterFragment = (InternetChecksum.u16(f, ip + 6) & 0x1FFF) != 0;
        if (headerLength >= 20 && !laterFragment)
        {
            updateTransport(f, f[ip + 9] & 0xFF, ip + headerLength, end, removed, 4, added, false);
        }
        return Outcome.REWRITTEN;
    }

    private Outcome rewriteIpv6(final byte[] f, final int ip, final int end, final int copy)
    {
        final long removed = InternetChecksum.add(f, ip + 8, 32, 0);
        mapIpv6(f, ip + 8, copy);
        mapIpv6(f, ip + 24, copy);
        final long added = InternetChecksum.add(f, ip + 8, 32, 0);
        // Walk extension headers to the transport header (a later fragment has none).
        int next = f[ip + 6] & 0xFF;
        int at = ip + 40;
        for (int headers = 0; headers < 16; headers++)
        {
            if (next == 0 || next == 43 || next == 60)
            {
                if (at + 2 > end)
                {
                    return Outcome.REWRITTEN;
                }
                final int length = ((f[at + 1] & 0xFF) + 1) * 8;
                next = f[at] & 0xFF;
                at += length;
            }
            else if (next == 44)
            {
                if (at + 8 > end || (InternetChecksum.u16(f, at + 2) & 0xFFF8) != 0)
                {
                    return Outcome.REWRITTEN;
                }
                next = f[at] & 0xFF;
                at += 8;
            }
            else if (next == 51)
            {
                if (at + 2 > end)
                {
                    return Outcome.REWRITTEN;
                }
                final int length = ((f[at + 1] & 0xFF) + 2) * 4;
                next = f[at] & 0xFF;
                at += length;
            }
            else
            {
                updateTransport(f, next, at, end, removed, 16, added, true);
                return Outcome.REWRITTEN;
            }
        }
        return Outcome.REWRITTEN;
    }

    private static void updateTransport(
        final byte[] f, final int protocol, final int l4, final int end, final long removed, final int words,
        final long added, final boolean ipv6)
    {
        final int field = switch (protocol)
        {
            case PROTOCOL_TCP -> l4 + 16;
            case PROTOCOL_UDP -> l4 + 6;
            case PROTOCOL_ICMPV6 -> ipv6 ? l4 + 2 : -1;
            default -> -1;
        };
        if (field < 0 || field + 2 > end)
        {
            return;
        }
        final int checksum = InternetChecksum.u16(f, field);
        if (protocol == PROTOCOL_UDP && checksum == 0 && !ipv6)
        {
            return; // no checksum
        }
        int updated = InternetChecksum.update(checksum, removed, words, added);
        if (protocol == PROTOCOL_UDP && updated == 0)
        {
            updated = 0xFFFF; // zero means "none" in UDP
        }
        InternetChecksum.putU16(f, field, updated);
    }

    private int mapIpv4(final int address, final int copy)
    {
        final Integer index = ipv4Index.get(address);
        if (index == null)
        {
            throw new IllegalStateException("address not learnt: " + Integer.toUnsignedString(address, 16));
        }
        return IPV4_BASE + copy * ipv4Block + index + 1;
    }

    private void mapIpv6(final byte[] f, final int at, final int copy)
    {
        final Integer index = ipv6Index.get(Ipv6.at(f, at));
        if (index == null)
        {
            throw new IllegalStateException("IPv6 address not learnt");
        }
        InternetChecksum.putI64(f, at, IPV6_BLOCK_PREFIX | copy);
        InternetChecksum.putI64(f, at + 8, index + 1L);
    }

    private static int version(final byte[] f, final int ip)
    {
        return (f[ip] & 0xF0) >>> 4;
    }

    /**
     * Where the outermost IP header starts, when the frame has one whose addresses are captured; else -1.
     */
    static int ipHeader(final byte[] f, final int offset, final int capturedLength, final int linkType)
    {
        final int end = offset + capturedLength;
        final int ip;
        switch (linkType)
        {
            case 1 -> // Ethernet
            {
                int at = offset + 12;
                while (at + 2 <= end && isVlanTag(InternetChecksum.u16(f, at)))
                {
                    at += 4;
                }
                if (at + 2 > end)
                {
                    return -1;
                }
                final int etherType = InternetChecksum.u16(f, at);
                if (etherType != ETHERTYPE_IPV4 && etherType != ETHERTYPE_IPV6)
                {
                    return -1;
                }
                ip = at + 2;
            }
            case 101, 12, 14, 228, 229 -> ip = offset;
            case 113 -> // Linux cooked
            {
                if (offset + 16 > end || !isIpEtherType(InternetChecksum.u16(f, offset + 14)))
                {
                    return -1;
                }
                ip = offset + 16;
            }
            case 276 -> // Linux cooked v2
            {
                if (offset + 20 > end || !isIpEtherType(InternetChecksum.u16(f, offset)))
                {
                    return -1;
                }
                ip = offset + 20;
            }
            case 0, 108 -> ip = offset + 4; // NULL/LOOP: the version nibble decides below
            default ->
            {
                return -1;
            }
        }
        if (ip >= end)
        {
            return -1;
        }
        final int version = version(f, ip);
        if (version == 4)
        {
            return ip + 20 <= end && (f[ip] & 0x0F) >= 5 ? ip : -1;
        }
        return version == 6 && ip + 40 <= end ? ip : -1;
    }

    private static boolean isVlanTag(final int etherType)
    {
        return etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100;
    }

    private static boolean isIpEtherType(final int etherType)
    {
        return etherType == ETHERTYPE_IPV4 || etherType == ETHERTYPE_IPV6;
    }

    /** An IPv6 address as a map key. */
    private record Ipv6(long high, long low)
    {
        static Ipv6 at(final byte[] f, final int at)
        {
            return new Ipv6(InternetChecksum.i64(f, at), InternetChecksum.i64(f, at + 8));
        }
    }
}
