package dev.flowtracker.core.flow;

import dev.flowtracker.core.state.Flyweight;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fields of a state flyweight (a class over a {@code (MemorySegment segment, long base)} pair), read from the
 * {@code LAYOUT} it declares them in, for the reflective walks of the state tests: each named member is a leaf, each
 * element of a sequence member a leaf of its own, padding none.
 */
final class FlyweightFields
{
    /** One value of a flyweight: its name ({@code counts[3]} for an element), offset and layout. */
    record Leaf(String name, String field, long offset, ValueLayout layout)
    {
    }

    private static final ClassValue<List<Leaf>> LEAVES = new ClassValue<>()
    {
        @Override
        protected List<Leaf> computeValue(final Class<?> type)
        {
            final List<Leaf> leaves = new ArrayList<>();
            long offset = 0;
            for (final MemoryLayout member : layoutOf(type).memberLayouts())
            {
                if (!(member instanceof PaddingLayout))
                {
                    final String name = member.name().orElseThrow(() -> new AssertionError(type + ": unnamed member"));
                    if (member instanceof SequenceLayout sequence &&
                        sequence.elementLayout() instanceof ValueLayout element)
                    {
                        for (int i = 0; i < sequence.elementCount(); i++)
                        {
                            leaves.add(new Leaf(name + "[" + i + "]", name, offset + i * element.byteSize(), element));
                        }
                    }
                    else if (member instanceof ValueLayout value)
                    {
                        leaves.add(new Leaf(name, name, offset, value));
                    }
                    else
                    {
                        throw new AssertionError(type + "." + name + ": no rule for " + member);
                    }
                }
                offset += member.byteSize();
            }
            return List.copyOf(leaves);
        }
    };

    private FlyweightFields()
    {
    }

    /** Whether {@code type} keeps its state in memory rather than in fields. */
    static boolean isFlyweight(final Class<?> type)
    {
        return Flyweight.class.isAssignableFrom(type);
    }

    /** Whether {@code field} is a flyweight's own bookkeeping (where its state is), not state. */
    static boolean isBookkeeping(final Field field)
    {
        return field.getDeclaringClass() == Flyweight.class;
    }

    static List<Leaf> leaves(final Class<?> type)
    {
        return LEAVES.get(type);
    }

    /** The leaf's value in {@code owner}'s memory, boxed. */
    static Object read(final Object owner, final Leaf leaf)
    {
        final MemorySegment segment = (MemorySegment)get(owner, "segment");
        final long at = (Long)get(owner, "base") + leaf.offset();
        return switch (leaf.layout())
        {
            case ValueLayout.OfByte b -> segment.get(b, at);
            case ValueLayout.OfShort s -> segment.get(s.withByteAlignment(1), at);
            case ValueLayout.OfInt i -> segment.get(i.withByteAlignment(1), at);
            case ValueLayout.OfLong l -> segment.get(l.withByteAlignment(1), at);
            default -> throw new AssertionError("no rule for " + leaf);
        };
    }

    /**
     * Moves the leaf off its value to one that decoding accepts: a byte (a flag, an ordinal, a small count) to its
     * neighbour (0 and 1 swap, 0xFF "none" becomes 0), a wider value up by one.
     */
    static void change(final Object owner, final Leaf leaf)
    {
        final MemorySegment segment = (MemorySegment)get(owner, "segment");
        final long at = (Long)get(owner, "base") + leaf.offset();
        switch (leaf.layout())
        {
            case ValueLayout.OfByte b ->
            {
                final byte value = segment.get(b, at);
                segment.set(b, at, value == (byte)0xFF ? 0 : (byte)(value ^ 1));
            }
            case ValueLayout.OfShort s ->
                segment.set(s.withByteAlignment(1), at, (short)(segment.get(s.withByteAlignment(1), at) + 1));
            case ValueLayout.OfInt i ->
                segment.set(i.withByteAlignment(1), at, segment.get(i.withByteAlignment(1), at) + 1);
            case ValueLayout.OfLong l ->
                segment.set(l.withByteAlignment(1), at, segment.get(l.withByteAlignment(1), at) + 1);
            default -> throw new AssertionError("no rule for " + leaf);
        }
        rewrap(owner, segment, at - leaf.offset());
    }

    /** Wraps {@code owner} again where it is, so that what it derives from its memory (Zeek's roles) follows. */
    private static final ClassValue<Method> WRAP = new ClassValue<>()
    {
        @Override
        protected Method computeValue(final Class<?> type)
        {
            return wrapMethod(type);
        }
    };

    private static void rewrap(final Object owner, final MemorySegment segment, final long base)
    {
        try
        {
            WRAP.get(owner.getClass()).invoke(owner, segment, base);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static Method wrapMethod(final Class<?> type)
    {
        for (Class<?> c = type; c != null; c = c.getSuperclass())
        {
            try
            {
                final Method wrap = c.getDeclaredMethod("wrap", MemorySegment.class, long.class);
                wrap.setAccessible(true);
                return wrap;
            }
            catch (final NoSuchMethodException ex)
            {
                // declared higher up
            }
        }
        throw new AssertionError(type + " keeps state in memory but has no wrap(MemorySegment, long)");
    }

    private static StructLayout layoutOf(final Class<?> type)
    {
        try
        {
            return (StructLayout)field(type, "LAYOUT").get(null);
        }
        catch (final IllegalAccessException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static Object get(final Object owner, final String name)
    {
        try
        {
            return field(owner.getClass(), name).get(owner);
        }
        catch (final IllegalAccessException ex)
        {
            throw new AssertionError(ex);
        }
    }

    /** Fields by class and name, looked up once: a walk reads them for every value it compares. */
    private static final ClassValue<Map<String, Field>> FIELDS = new ClassValue<>()
    {
        @Override
        protected Map<String, Field> computeValue(final Class<?> type)
        {
            return new ConcurrentHashMap<>();
        }
    };

    /** The field {@code name} of {@code type} or of the nearest superclass that declares it. */
    private static Field field(final Class<?> type, final String name)
    {
        return FIELDS.get(type).computeIfAbsent(name, n -> lookUp(type, n));
    }

    private static Field lookUp(final Class<?> type, final String name)
    {
        for (Class<?> c = type; c != null; c = c.getSuperclass())
        {
            try
            {
                final Field field = c.getDeclaredField(name);
                field.setAccessible(true);
                return field;
            }
            catch (final NoSuchFieldException ex)
            {
                // declared higher up, if at all
            }
        }
        throw new AssertionError(type + " keeps state in memory but has no " + name);
    }
}
