package dev.flowtracker.core.flow;

import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compares two state trees field by field: primitives, enums and strings by equals, arrays element by element,
 * state objects recursively (and their aliasing: {@code orig} must be the same endpoint on both sides), the
 * shared {@link ZeekOptions} by identity. Any other type fails, so that a new kind of field is noticed here.
 * <p>
 * Its reflective walk of the state tree ({@link #isState}, {@link #instanceFields}, {@link #get}) is also
 * what {@code FlowStateFieldWalkTest} uses to reach every leaf.
 */
final class StateComparison
{
    private final Set<String> ignored;
    private final IdentityHashMap<Object, Object> pairs = new IdentityHashMap<>();
    private final IdentityHashMap<Object, Object> reversePairs = new IdentityHashMap<>();
    final List<String> differences = new ArrayList<>();
    int fields;

    private StateComparison(final String... ignored)
    {
        this.ignored = Set.of(ignored);
    }

    static StateComparison of(final Object expected, final Object actual, final String... ignored)
    {
        final StateComparison comparison = new StateComparison(ignored);
        comparison.compare(expected.getClass().getSimpleName(), expected, actual);
        return comparison;
    }

    /** @return the number of fields compared. */
    static int assertDeepEquals(
        final Object expected, final Object actual, final String context, final String... ignored)
    {
        final StateComparison comparison = of(expected, actual, ignored);
        final List<String> differences = comparison.differences;
        if (!differences.isEmpty())
        {
            final List<String> shown = differences.subList(0, Math.min(20, differences.size()));
            fail(context + ": " + differences.size() + " differences:\n  " + String.join("\n  ", shown));
        }
        return comparison.fields;
    }

    private void compare(final String path, final Object x, final Object y)
    {
        if (x == null || y == null)
        {
            if (x != y)
            {
                differences.add(path + ": " + x + " != " + y);
            }
            return;
        }
        final Class<?> type = x.getClass();
        if (type != y.getClass())
        {
            differences.add(path + ": " + type + " != " + y.getClass());
        }
        else if (type.isArray())
        {
            final int length = Array.getLength(x);
            if (length != Array.getLength(y))
            {
                differences.add(path + ": length " + length + " != " + Array.getLength(y));
                return;
            }
            for (int i = 0; i < length; i++)
            {
                compare(path + "[" + i + "]", Array.get(x, i), Array.get(y, i));
            }
        }
        else if (isState(type))
        {
            compareState(path, x, y);
        }
        else if (type.isEnum() || type == String.class || type == Boolean.class || type == Character.class ||
            (Number.class.isAssignableFrom(type) && type.getPackage() == Long.class.getPackage()))
        {
            if (!x.equals(y))
            {
                differences.add(path + ": " + x + " != " + y);
            }
        }
        else if (type == ZeekOptions.class)
        {
            if (x != y)
            {
                differences.add(path + ": different options");
            }
        }
        else
        {
            fail(path + ": no rule for " + type + "; is it per-connection state? teach this walk and the codec");
        }
    }

    private void compareState(final String path, final Object x, final Object y)
    {
        final Object pairedWithX = pairs.get(x);
        final Object pairedWithY = reversePairs.get(y);
        if (pairedWithX != null || pairedWithY != null)
        {
            if (pairedWithX != y || pairedWithY != x)
            {
                differences.add(path + ": refers to a different object than in the expected tree");
            }
            return;
        }
        pairs.put(x, y);
        reversePairs.put(y, x);
        for (final Field field : instanceFields(x.getClass()))
        {
            final String name = x.getClass().getSimpleName() + "." + field.getName();
            if (ignored.contains(name))
            {
                continue;
            }
            fields++;
            compare(path + "." + field.getName(), get(field, x), get(field, y));
        }
        if (FlyweightFields.isFlyweight(x.getClass()))
        {
            for (final FlyweightFields.Leaf leaf : FlyweightFields.leaves(x.getClass()))
            {
                if (!ignored.contains(x.getClass().getSimpleName() + "." + leaf.field()))
                {
                    fields++;
                    compare(path + "." + leaf.name(), FlyweightFields.read(x, leaf), FlyweightFields.read(y, leaf));
                }
            }
        }
    }

    // ================================================================ reflective walk of the state tree

    /** Whether objects of {@code type} are per-connection state, to be walked field by field. */
    static boolean isState(final Class<?> type)
    {
        final Package where = type.getPackage();
        return (where == TcpConnection.class.getPackage() || where == ZeekSummary.class.getPackage()) &&
            !type.isEnum() && !type.isInterface() && type != ZeekOptions.class;
    }

    private static final ClassValue<List<Field>> INSTANCE_FIELDS = new ClassValue<>()
    {
        @Override
        protected List<Field> computeValue(final Class<?> type)
        {
            final List<Field> fields = new ArrayList<>();
            for (final Field field : type.getDeclaredFields())
            {
                // A bounded table's slot number is the table's bookkeeping, set by the table, not connection state.
                final boolean tableBookkeeping = type == TcpConnection.class && field.getName().equals("slot");
                if (!Modifier.isStatic(field.getModifiers()) && !field.isSynthetic() && !tableBookkeeping &&
                    !FlyweightFields.isBookkeeping(field))
                {
                    field.setAccessible(true);
                    fields.add(field);
                }
            }
            return List.copyOf(fields);
        }
    };

    static List<Field> instanceFields(final Class<?> type)
    {
        return INSTANCE_FIELDS.get(type);
    }

    static Object get(final Field field, final Object owner)
    {
        try
        {
            return field.get(owner);
        }
        catch (final IllegalAccessException ex)
        {
            throw new AssertionError(ex);
        }
    }
}
