package dev.flowtracker.core.flow;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * One field that a flyweight state class keeps in its memory instead of a Java field, for the reflective walk of
 * the state tree in {@link FlowStateCodecTest}. A flyweight is a class with a {@link MemorySegment} field; its
 * fields are its static {@code FOO_BAR_OFFSET} constants (its superclasses' included), each read and written through
 * the accessors named after it: {@code fooBar()} and {@code fooBar(value)}, or {@code fooBarRaw()} and
 * {@code fooBarRaw(value)} where a public {@code fooBar()} means something else; {@code fooBar(index)} and
 * {@code fooBar(index, value)} for an array region, whose length is its gap to the next offset (or to the class's
 * {@code BYTES}) over its element's size. A constant named after a state field of the class ({@code HISTORY_OFFSET}
 * beside {@code history}) is the region of a part it composes, walked as that part.
 *
 * @param name the field's name, as the constant says it ({@code expireAt} for {@code EXPIRE_AT_OFFSET}).
 * @param count -1 for a scalar, else the array region's length.
 */
record FlyweightField(String name, Method getter, Method setter, int count)
{
    private static final ClassValue<List<FlyweightField>> FIELDS = new ClassValue<>()
    {
        @Override
        protected List<FlyweightField> computeValue(final Class<?> type)
        {
            return find(type);
        }
    };

    /** Whether {@code type} keeps its state in memory. */
    static boolean isFlyweight(final Class<?> type)
    {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass())
        {
            for (final Field field : c.getDeclaredFields())
            {
                if (field.getType() == MemorySegment.class)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether {@code field} of {@code owner} is a flyweight's {@code (segment, base)} pair rather than state. */
    static boolean isMemoryReference(final Class<?> owner, final Field field)
    {
        return field.getType() == MemorySegment.class ||
            (field.getName().equals("base") && field.getType() == long.class && isFlyweight(owner));
    }

    /** The fields of flyweight {@code type}, in offset order; none for another class. */
    static List<FlyweightField> of(final Class<?> type)
    {
        return FIELDS.get(type);
    }

    /** The field's value type (of an element, for an array region). */
    Class<?> type()
    {
        return getter.getReturnType();
    }

    Object get(final Object owner, final int index)
    {
        return invoke(getter, owner, count < 0 ? new Object[0] : new Object[] {index});
    }

    void set(final Object owner, final int index, final Object value)
    {
        invoke(setter, owner, count < 0 ? new Object[] {value} : new Object[] {index, value});
    }

    private static Object invoke(final Method method, final Object owner, final Object[] arguments)
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

    private static List<FlyweightField> find(final Class<?> type)
    {
        final List<FlyweightField> fields = new ArrayList<>();
        if (!isFlyweight(type))
        {
            return fields;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass())
        {
            final TreeMap<Integer, String> offsets = offsets(c);
            for (final var entry : offsets.entrySet())
            {
                final String name = camelCase(entry.getValue());
                if (isPart(type, name))
                {
                    continue;
                }
                final Integer next = offsets.higherKey(entry.getKey());
                final int end = next != null ? next : bytes(c);
                fields.add(field(c, entry.getValue(), name, end - entry.getKey()));
            }
        }
        return List.copyOf(fields);
    }

    private static FlyweightField field(final Class<?> c, final String constant, final String name, final int gap)
    {
        Method getter = method(c, name + "Raw", 0, true);
        if (getter == null)
        {
            getter = method(c, name, 0, true);
        }
        if (getter != null)
        {
            final Method setter = method(c, getter.getName(), 1, false);
            assertNotNull(setter, () -> c.getSimpleName() + "." + constant + ": no setter " + name + "(value)");
            return new FlyweightField(name, getter, setter, -1);
        }
        getter = method(c, name, 1, true);
        assertNotNull(getter, () -> c.getSimpleName() + "." + constant + ": no accessor " + name + "()");
        final Method setter = method(c, name, 2, false);
        assertNotNull(setter, () -> c.getSimpleName() + "." + constant + ": no setter " + name + "(index, value)");
        final int width = width(getter.getReturnType());
        assertEquals(0, gap % width, () -> c.getSimpleName() + "." + constant + ": region of " + gap + " bytes");
        return new FlyweightField(name, getter, setter, gap / width);
    }

    /**
     * An instance method of {@code c} named {@code name} with {@code parameters} parameters: a getter of a primitive
     * value (its parameter, if any, an index) or a setter returning nothing.
     */
    private static Method method(final Class<?> c, final String name, final int parameters, final boolean getter)
    {
        for (final Method method : c.getDeclaredMethods())
        {
            if (method.getName().equals(name) && method.getParameterCount() == parameters &&
                !Modifier.isStatic(method.getModifiers()) && !method.isSynthetic() && !method.isBridge() &&
                (parameters == 0 || method.getParameterTypes()[0] == int.class || !getter))
            {
                final Class<?> returned = method.getReturnType();
                if (getter ? returned.isPrimitive() && returned != void.class : returned == void.class)
                {
                    method.setAccessible(true);
                    return method;
                }
            }
        }
        return null;
    }

    private static TreeMap<Integer, String> offsets(final Class<?> c)
    {
        final TreeMap<Integer, String> offsets = new TreeMap<>();
        for (final Field field : c.getDeclaredFields())
        {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class &&
                field.getName().endsWith("_OFFSET"))
            {
                final String name = field.getName();
                offsets.put(constant(field), name.substring(0, name.length() - "_OFFSET".length()));
            }
        }
        return offsets;
    }

    /** The class's own size: {@code BYTES}, or {@code OWN_BYTES} when it is the first part of a larger region. */
    private static int bytes(final Class<?> c)
    {
        for (final String name : new String[] {"BYTES", "OWN_BYTES"})
        {
            try
            {
                final Field field = c.getDeclaredField(name);
                return constant(field);
            }
            catch (final NoSuchFieldException ex)
            {
                // try the next name
            }
        }
        throw new AssertionError(c.getSimpleName() + ": no BYTES");
    }

    private static int constant(final Field field)
    {
        try
        {
            field.setAccessible(true);
            return field.getInt(null);
        }
        catch (final IllegalAccessException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static boolean isPart(final Class<?> type, final String name)
    {
        try
        {
            return !type.getDeclaredField(name).getType().isPrimitive();
        }
        catch (final NoSuchFieldException ex)
        {
            return false;
        }
    }

    private static int width(final Class<?> type)
    {
        if (type == long.class || type == double.class)
        {
            return Long.BYTES;
        }
        if (type == int.class || type == float.class)
        {
            return Integer.BYTES;
        }
        return type == short.class || type == char.class ? Short.BYTES : 1;
    }

    /** {@code EXPIRE_AT} to {@code expireAt}. */
    private static String camelCase(final String constant)
    {
        final StringBuilder name = new StringBuilder();
        for (final String word : constant.toLowerCase(Locale.ROOT).split("_"))
        {
            name.append(name.isEmpty() ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
        }
        return name.toString();
    }
}
