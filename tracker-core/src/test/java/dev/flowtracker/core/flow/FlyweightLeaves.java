package dev.flowtracker.core.flow;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The values of a flyweight state object, for {@link FlowStateCodecTest}'s reflective walk. A flyweight keeps its
 * values in memory at {@code (segment, base)}, not in Java fields, so the walk finds them by its {@code *_OFFSET}
 * constants instead: {@code FOO_BAR_OFFSET} names the value {@code fooBar}, read and set through the raw accessors
 * {@code fooBar()} / {@code fooBar(value)} (or {@code fooBarRaw}, where a public {@code fooBar()} maps a sentinel).
 * Indexed accessors {@code fooBar(int)} / {@code fooBar(int, value)} make a region of elements, as many as fit before
 * the next offset (or {@code BYTES}). The memory fields themselves ({@code segment}, {@code base}) are no state of
 * their own: they say where the state is.
 */
final class FlyweightLeaves
{
    /** One value of a flyweight: a field, or one element ({@code index} >= 0) of a region. */
    record Leaf(String name, int index, Method getter, Method setter)
    {
        String path()
        {
            return index < 0 ? name : name + "[" + index + "]";
        }

        Class<?> type()
        {
            return getter.getReturnType();
        }

        Object get(final Object owner)
        {
            return invoke(getter, owner, index < 0 ? new Object[0] : new Object[]{index});
        }

        void set(final Object owner, final Object value)
        {
            invoke(setter, owner, index < 0 ? new Object[]{value} : new Object[]{index, value});
        }
    }

    private static final ClassValue<List<Leaf>> LEAVES = new ClassValue<>()
    {
        @Override
        protected List<Leaf> computeValue(final Class<?> type)
        {
            return isFlyweight(type) ? List.copyOf(find(type)) : List.of();
        }
    };

    private FlyweightLeaves()
    {
    }

    /** The values of a flyweight, in offset order; none for any other class. */
    static List<Leaf> of(final Class<?> type)
    {
        return LEAVES.get(type);
    }

    /** Whether {@code field} says where a flyweight's state is rather than holding state. */
    static boolean isMemory(final Field field)
    {
        return field.getType() == MemorySegment.class ||
            field.getName().equals("base") && field.getType() == long.class && isFlyweight(field.getDeclaringClass());
    }

    private static boolean isFlyweight(final Class<?> type)
    {
        for (Class<?> c = type; c != null; c = c.getSuperclass())
        {
            for (final Field field : c.getDeclaredFields())
            {
                if (field.getType() == MemorySegment.class && !Modifier.isStatic(field.getModifiers()))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<Leaf> find(final Class<?> type)
    {
        final List<Field> offsets = new ArrayList<>();
        int bytes = -1;
        final List<Method> methods = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass())
        {
            for (final Field field : c.getDeclaredFields())
            {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class)
                {
                    if (field.getName().endsWith("_OFFSET"))
                    {
                        offsets.add(field);
                    }
                    else if (field.getName().equals("BYTES") && bytes < 0)
                    {
                        bytes = staticInt(field);
                    }
                }
            }
            methods.addAll(List.of(c.getDeclaredMethods()));
        }
        if (bytes < 0 || offsets.isEmpty())
        {
            fail(type + " has memory but no BYTES or *_OFFSET constants; teach FlyweightLeaves");
        }
        offsets.sort(Comparator.comparingInt(FlyweightLeaves::staticInt));
        final List<Leaf> leaves = new ArrayList<>();
        for (int i = 0; i < offsets.size(); i++)
        {
            final Field offset = offsets.get(i);
            final int end = i + 1 < offsets.size() ? staticInt(offsets.get(i + 1)) : bytes;
            final String name = camel(offset.getName().substring(0, offset.getName().length() - "_OFFSET".length()));
            final Method scalar = accessor(methods, name, List.of());
            if (scalar != null)
            {
                leaves.add(new Leaf(name, -1, scalar, accessor(methods, name, List.of(scalar.getReturnType()))));
                continue;
            }
            final Method element = accessor(methods, name, List.of(int.class));
            if (element == null)
            {
                fail(type.getSimpleName() + "." + offset.getName() + ": no accessor " + name + "() or " + name +
                    "Raw()");
            }
            final Method setter = accessor(methods, name, List.of(int.class, element.getReturnType()));
            final int count = (end - staticInt(offset)) / width(element.getReturnType());
            for (int index = 0; index < count; index++)
            {
                leaves.add(new Leaf(name, index, element, setter));
            }
        }
        return leaves;
    }

    /** {@code nameRaw} or else {@code name} with these parameters, accessible; null if there is none. */
    private static Method accessor(final List<Method> methods, final String name, final List<Class<?>> parameters)
    {
        for (final String candidate : new String[]{name + "Raw", name})
        {
            for (final Method method : methods)
            {
                if (method.getName().equals(candidate) && List.of(method.getParameterTypes()).equals(parameters))
                {
                    method.setAccessible(true);
                    return method;
                }
            }
        }
        return null;
    }

    private static int width(final Class<?> type)
    {
        if (type == long.class)
        {
            return Long.BYTES;
        }
        if (type == int.class)
        {
            return Integer.BYTES;
        }
        return type == short.class ? Short.BYTES : Byte.BYTES;
    }

    /** {@code FOO_BAR} as {@code fooBar}. */
    private static String camel(final String constant)
    {
        final StringBuilder name = new StringBuilder();
        for (final String word : constant.toLowerCase().split("_"))
        {
            name.append(name.isEmpty() ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
        }
        return name.toString();
    }

    private static int staticInt(final Field field)
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

    private static Object invoke(final Method method, final Object owner, final Object[] arguments)
    {
        try
        {
            return method.invoke(owner, arguments);
        }
        catch (final IllegalAccessException | InvocationTargetException ex)
        {
            throw new AssertionError(method + " failed", ex);
        }
    }
}
