package dev.flowtracker.core.flow;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * The fields of a flyweight state class, for the reflective walk of {@link FlowStateCodecTest}: a class whose
 * per-connection state lives in memory at {@code (segment, base)} ({@code dev.flowtracker.core.state.StateMemory})
 * has one {@link Leaf} per {@code FOO_OFFSET} constant, read and written through its raw accessors {@code foo()} and
 * {@code foo(value)}, or {@code foo(index)} and {@code foo(index, value)} for a region, whose length is its bytes up
 * to the next offset (or {@code BYTES}) over its element's width. Its {@code segment} and {@code base} fields are the
 * view, not state. A constant without such accessors fails, so that the walk is taught about it.
 */
final class FlyweightFields
{
    private static final String OFFSET = "_OFFSET";

    private static final ClassValue<List<Leaf>> LEAVES = new ClassValue<>()
    {
        @Override
        protected List<Leaf> computeValue(final Class<?> type)
        {
            return isFlyweight(type) ? leaves(type) : List.of();
        }
    };

    private FlyweightFields()
    {
    }

    /**
     * One field of a flyweight: {@code length} is -1 for a single value, else the number of elements of a region.
     */
    record Leaf(String name, Method getter, Method setter, int length)
    {
        /** -1 for a single value, else 0 to {@code length - 1}. */
        int[] indexes()
        {
            return length < 0 ? new int[] {-1} : IntStream.range(0, length).toArray();
        }

        /** The path of element {@code index} (see {@link #indexes}) below {@code owner}'s. */
        String path(final String owner, final int index)
        {
            return owner + "." + name + (index < 0 ? "" : "[" + index + "]");
        }

        Class<?> type()
        {
            return getter.getReturnType();
        }

        Object get(final Object owner, final int index)
        {
            return length < 0 ? invoke(getter, owner) : invoke(getter, owner, index);
        }

        void set(final Object owner, final int index, final Object value)
        {
            if (length < 0)
            {
                invoke(setter, owner, value);
            }
            else
            {
                invoke(setter, owner, index, value);
            }
        }
    }

    /** Whether {@code type} keeps its state in memory at {@code (segment, base)}. */
    static boolean isFlyweight(final Class<?> type)
    {
        for (final Field field : type.getDeclaredFields())
        {
            if (field.getType() == MemorySegment.class && field.getName().equals("segment"))
            {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code field} is a flyweight's view of its memory ({@code segment}, {@code base}), not state. */
    static boolean isView(final Field field)
    {
        final String name = field.getName();
        return isFlyweight(field.getDeclaringClass()) && (name.equals("segment") || name.equals("base"));
    }

    /** The fields of {@code type} in its memory, by offset; none if it is not a flyweight. */
    static List<Leaf> of(final Class<?> type)
    {
        return LEAVES.get(type);
    }

    private static List<Leaf> leaves(final Class<?> type)
    {
        final List<Field> offsets = new ArrayList<>();
        for (final Field field : type.getDeclaredFields())
        {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class &&
                field.getName().endsWith(OFFSET))
            {
                field.setAccessible(true);
                offsets.add(field);
            }
        }
        offsets.sort(Comparator.comparingInt(field -> (Integer)staticValue(field)));
        final Field bytes = staticField(type, "BYTES");
        final List<Leaf> leaves = new ArrayList<>();
        for (int i = 0; i < offsets.size(); i++)
        {
            final Field offset = offsets.get(i);
            final int end = (Integer)staticValue(i + 1 < offsets.size() ? offsets.get(i + 1) : bytes);
            leaves.add(leaf(type, offset, end - (Integer)staticValue(offset)));
        }
        return List.copyOf(leaves);
    }

    private static Leaf leaf(final Class<?> type, final Field offset, final int regionBytes)
    {
        final String name = camelCase(offset.getName().substring(0, offset.getName().length() - OFFSET.length()));
        final Method single = method(type, name);
        if (single != null)
        {
            return new Leaf(name, single, setter(type, name, single.getReturnType()), -1);
        }
        final Method indexed = method(type, name, int.class);
        if (indexed == null)
        {
            throw new AssertionError(type.getSimpleName() + "." + offset.getName() + ": no accessor " + name +
                "() or " + name + "(int); teach the flyweight walk");
        }
        final Class<?> element = indexed.getReturnType();
        return new Leaf(name, indexed, setter(type, name, int.class, element), regionBytes / width(element));
    }

    private static Method setter(final Class<?> type, final String name, final Class<?>... parameters)
    {
        final Method setter = method(type, name, parameters);
        if (setter == null)
        {
            throw new AssertionError(type.getSimpleName() + ": no setter " + name + "; teach the flyweight walk");
        }
        return setter;
    }

    private static Method method(final Class<?> type, final String name, final Class<?>... parameters)
    {
        try
        {
            final Method method = type.getDeclaredMethod(name, parameters);
            method.setAccessible(true);
            return method;
        }
        catch (final NoSuchMethodException ex)
        {
            return null;
        }
    }

    private static int width(final Class<?> element)
    {
        if (element == long.class || element == double.class)
        {
            return Long.BYTES;
        }
        if (element == int.class || element == float.class)
        {
            return Integer.BYTES;
        }
        if (element == short.class || element == char.class)
        {
            return Short.BYTES;
        }
        return Byte.BYTES;
    }

    /** {@code HISTORY_LAST_SYN} to {@code historyLastSyn}. */
    private static String camelCase(final String constant)
    {
        final StringBuilder name = new StringBuilder();
        boolean upper = false;
        for (final char c : constant.toLowerCase(Locale.ROOT).toCharArray())
        {
            if (c == '_')
            {
                upper = true;
            }
            else
            {
                name.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return name.toString();
    }

    private static Field staticField(final Class<?> type, final String name)
    {
        try
        {
            final Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        }
        catch (final NoSuchFieldException ex)
        {
            throw new AssertionError(type.getSimpleName() + " is a flyweight without BYTES", ex);
        }
    }

    private static Object staticValue(final Field field)
    {
        try
        {
            return field.get(null);
        }
        catch (final IllegalAccessException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static Object invoke(final Method method, final Object owner, final Object... arguments)
    {
        try
        {
            return method.invoke(owner, arguments);
        }
        catch (final IllegalAccessException | InvocationTargetException ex)
        {
            throw new AssertionError(method + ": " + ex, ex);
        }
    }
}
