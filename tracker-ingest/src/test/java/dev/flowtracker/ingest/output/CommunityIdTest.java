package dev.flowtracker.ingest.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Community ID v1 against the TCP test vectors the spec publishes (github.com/corelight/community-id-spec,
 * baseline/README.md and baseline/baseline_*.json): both directions of a flow give the spec's value, for seeds 0
 * and 1, IPv4 and IPv6.
 */
class CommunityIdTest
{
    @ParameterizedTest
    @CsvSource({
        "0, 1.2.3.4, 1122, 5.6.7.8, 3344, 1:wCb3OG7yAFWelaUydu0D+125CLM=",
        "1, 1.2.3.4, 1122, 5.6.7.8, 3344, 1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=",
        "0, 128.232.110.120, 34855, 66.35.250.204, 80, 1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
        "1, 128.232.110.120, 34855, 66.35.250.204, 80, 1:3V71V58M3Ksw/yuFALMcW0LAHvc=",
        "0, 2001:470:e5bf:dead:4957:2174:e82c:4887, 63943, 2607:f8b0:400c:c03::1a, 25, 1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
        "1, 2001:470:e5bf:dead:4957:2174:e82c:4887, 63943, 2607:f8b0:400c:c03::1a, 25, 1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
    })
    void shouldGiveTheSpecsIdInBothDirections(
        final int seed, final String a, final int aPort, final String b, final int bPort, final String expected)
        throws UnknownHostException
    {
        final CommunityId ids = new CommunityId(seed);
        assertEquals(expected, id(ids, a, aPort, b, bPort));
        assertEquals(expected, id(ids, b, bPort, a, aPort), "the other direction");
        assertEquals(expected, id(ids, a, aPort, b, bPort), "again, with the digest reused");
    }

    @Test
    void shouldLetThePortsDecideBetweenEqualAddresses() throws UnknownHostException
    {
        final CommunityId ids = new CommunityId(0);
        final String id = id(ids, "127.0.0.1", 40000, "127.0.0.1", 8080);
        assertEquals(id, id(ids, "127.0.0.1", 8080, "127.0.0.1", 40000));
        assertNotEquals(id, id(ids, "127.0.0.1", 40001, "127.0.0.1", 8080));
        assertNotEquals(id, id(new CommunityId(2), "127.0.0.1", 40000, "127.0.0.1", 8080), "another seed");
    }

    @Test
    void shouldRefuseSeedsBeyondSixteenBits()
    {
        assertThrows(IllegalArgumentException.class, () -> new CommunityId(-1));
        assertThrows(IllegalArgumentException.class, () -> new CommunityId(CommunityId.MAX_SEED + 1));
    }

    private static String id(final CommunityId ids, final String a, final int aPort, final String b, final int bPort)
        throws UnknownHostException
    {
        final byte[] aBytes = InetAddress.getByName(a).getAddress();
        final byte[] bBytes = InetAddress.getByName(b).getAddress();
        final int version = aBytes.length == 4 ? 4 : 6;
        final AsciiRecord out = new AsciiRecord(64);
        ids.append(out, version, high(aBytes), low(aBytes), aPort, high(bBytes), low(bBytes), bPort);
        return out.toString();
    }

    private static long high(final byte[] address)
    {
        return address.length == 4 ? 0 : ByteBuffer.wrap(address).getLong(0);
    }

    private static long low(final byte[] address)
    {
        final ByteBuffer bytes = ByteBuffer.wrap(address);
        return address.length == 4 ? bytes.getInt(0) & 0xFFFF_FFFFL : bytes.getLong(8);
    }
}
