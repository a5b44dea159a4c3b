package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekInternals;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.flowtracker.core.flow.CodecTestSupport.MIN_FIELDS;
import static dev.flowtracker.core.flow.CodecTestSupport.NOT_ENCODED;
import static dev.flowtracker.core.flow.CodecTestSupport.decode;
import static dev.flowtracker.core.flow.CodecTestSupport.encode;
import static dev.flowtracker.core.flow.CodecTestSupport.handshaken;
import static dev.flowtracker.core.flow.StateComparison.get;
import static dev.flowtracker.core.flow.StateComparison.instanceFields;
import static dev.flowtracker.core.flow.StateComparison.isState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link FlowStateCodec} (which copies the record's bytes) and the state classes' {@code clear()} against a
 * reflective walk of every field the layouts declare, one field at a time on a new connection, so that a field
 * that does not ride along in a checkpoint or survives {@code clear()} fails here; and a recycled connection
 * reset to exactly what a new one gets. The rich states of random conversations and real captures are in
 * {@code FlowStateRestoreTest}.
 */
class FlowStateFieldWalkTest
{
    // ================================================================ one field at a time

    @Test
    void shouldCarryEveryFieldThroughTheCodec()
    {
        final List<Slot> slots = Slot.all();
        assertTrue(slots.size() > MIN_FIELDS, () -> "only " + slots.size() + " slots");
        final byte[] fresh = encode(new TcpConnection());
        for (final Slot slot : slots)
        {
            final TcpConnection changed = new TcpConnection();
            slot.change(changed);
            final byte[] bytes = encode(changed);
            if (!slot.path().equals("TcpConnection.scheduledTimerNanos"))
            {
                assertFalse(Arrays.equals(fresh, bytes), () -> slot.path() + " is not encoded");
            }
            final TcpConnection decoded = decode(bytes);
            assertEquals(ZeekSummary.NO_TIMER, decoded.scheduledTimerNanos());
            StateComparison.assertDeepEquals(changed, decoded, slot.path(), NOT_ENCODED);
        }
    }

    @Test
    void shouldClearEveryFieldBackToANewConnection()
    {
        for (final Slot slot : Slot.all())
        {
            final TcpConnection changed = new TcpConnection();
            slot.change(changed);
            // The comparison must see the change, or a clear() that forgot the field would pass unnoticed.
            assertFalse(StateComparison.of(new TcpConnection(), changed).differences.isEmpty(),
                () -> "comparison misses " + slot.path());
            changed.clear();
            StateComparison.assertDeepEquals(new TcpConnection(), changed, slot.path());
        }
    }

    @Test
    void shouldResetARecycledConnectionToExactlyWhatANewOneGets()
    {
        final TcpConnection used = handshaken();
        used.scheduledTimerNanos(42);
        final DecodedPacket p = new DecodedPacket();
        p.resetDecodedFields();
        p.timestampNanos = 7_000_000_000L;
        p.ipVersion = 4;
        p.srcLow = 3;
        p.dstLow = 4;
        p.srcPort = 1234;
        p.dstPort = 443;
        final int hash = FlowHash.of(p);
        used.reset(p, hash, 3, ZeekOptions.DEFAULTS);
        final TcpConnection fresh = new TcpConnection();
        fresh.reset(p, hash, 3, ZeekOptions.DEFAULTS);
        StateComparison.assertDeepEquals(fresh, used, "recycled");
    }
    /**
     * One leaf of the state tree (a primitive or enum field, or one element of an array field), reached from a
     * {@link TcpConnection} through {@code route}; {@link #change} moves it off its initial value. The
     * originator/responder references count as one leaf whose change swaps them.
     */
    record Slot(String path, List<Field> route, Field field, int index, FlyweightFields.Leaf leaf)
    {
        Slot(final String path, final List<Field> route, final Field field, final int index)
        {
            this(path, route, field, index, null);
        }

        /** The field's name (an array's or a flyweight member's, without the element index). */
        String name()
        {
            return leaf != null ? leaf.field() : field.getName();
        }

        static List<Slot> all()
        {
            final List<Slot> slots = new ArrayList<>();
            collect(new TcpConnection(), "TcpConnection", List.of(), slots);
            return slots;
        }

        private static void collect(final Object owner, final String path, final List<Field> route,
            final List<Slot> slots)
        {
            if (FlyweightFields.isFlyweight(owner.getClass()))
            {
                for (final FlyweightFields.Leaf leaf : FlyweightFields.leaves(owner.getClass()))
                {
                    slots.add(new Slot(path + "." + leaf.name(), route, null, -1, leaf));
                }
            }
            for (final Field field : instanceFields(owner.getClass()))
            {
                final Class<?> type = field.getType();
                final String name = path + "." + field.getName();
                if (type.isPrimitive() || type.isEnum())
                {
                    slots.add(new Slot(name, route, field, -1));
                }
                else if (type.isArray() && type.getComponentType().isPrimitive())
                {
                    final int length = Array.getLength(get(field, owner));
                    for (int i = 0; i < length; i++)
                    {
                        slots.add(new Slot(name + "[" + i + "]", route, field, i));
                    }
                }
                else if (type == ZeekOptions.class)
                {
                    continue; // configuration, shared by every connection
                }
                else if (isState(type) && Modifier.isFinal(field.getModifiers()))
                {
                    final List<Field> next = new ArrayList<>(route);
                    next.add(field);
                    collect(get(field, owner), name, next, slots);
                }
                else if (owner instanceof ZeekSummary && field.getName().equals("orig"))
                {
                    slots.add(new Slot(name + "/resp", route, field, -1));
                }
                else if (!(owner instanceof ZeekSummary && field.getName().equals("resp")))
                {
                    fail(name + ": no rule for " + type + "; teach this walk and the codec");
                }
            }
        }

        void change(final TcpConnection connection)
        {
            Object owner = connection;
            for (final Field step : route)
            {
                owner = get(step, owner);
            }
            if (leaf != null)
            {
                FlyweightFields.change(owner, leaf);
                return;
            }
            try
            {
                if (owner instanceof ZeekSummary zeek && field.getName().equals("orig"))
                {
                    ZeekInternals.swapOrigAndResp(zeek);
                }
                else if (index >= 0)
                {
                    final Object array = field.get(owner);
                    Array.set(array, index, next(Array.get(array, index), field.getType().getComponentType()));
                }
                else
                {
                    field.set(owner, next(field.get(owner), field.getType()));
                }
            }
            catch (final IllegalAccessException ex)
            {
                throw new AssertionError(ex);
            }
        }

        /** A value other than {@code value} that decoding accepts (states, counts and ordinals stay in range). */
        private static Object next(final Object value, final Class<?> type)
        {
            if (type == boolean.class)
            {
                return !(Boolean)value;
            }
            if (type == byte.class)
            {
                return (byte)((Byte)value + 1);
            }
            if (type == int.class)
            {
                return (Integer)value + 1;
            }
            if (type == long.class)
            {
                return (Long)value + 1;
            }
            if (type.isEnum())
            {
                final Object[] constants = type.getEnumConstants();
                return value == null ? constants[0] : constants[(((Enum<?>)value).ordinal() + 1) % constants.length];
            }
            throw new AssertionError("no rule to change a " + type);
        }
    }
}
