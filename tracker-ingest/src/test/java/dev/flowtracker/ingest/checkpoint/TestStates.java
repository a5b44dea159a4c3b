package dev.flowtracker.ingest.checkpoint;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/** Deterministic flow states for checkpoint tests: keys across the whole long range, sizes 0 to 3 KB. */
final class TestStates
{
    private TestStates()
    {
    }

    /** {@code count} distinct keys (the extremes first) with states whose content depends on the seed. */
    static Map<Long, byte[]> generate(final long seed, final int count)
    {
        final Map<Long, byte[]> states = new LinkedHashMap<>();
        forEach(seed, count, (key, state) ->
        {
            final byte[] copy = new byte[state.remaining()];
            state.get(copy);
            states.put(key, copy);
        });
        return states;
    }

    /**
     * The states {@link #generate} returns, in the same order, made one at a time into a reused buffer (for more
     * states than a small heap holds). Keys are distinct: a repeated random key is skipped.
     */
    static void forEach(final long seed, final int count, final EntrySink sink)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final Set<Long> keys = new HashSet<>();
        final long[] extremes = {0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE};
        final byte[] state = new byte[4096];
        for (int i = 0; keys.size() < count; i++)
        {
            final long key = i < extremes.length ? extremes[i] : random.nextLong();
            final int size = switch (i % 10)
            {
                case 0 -> 0; // empty states are allowed and come back empty
                case 1 -> 3000 + random.nextInt(100);
                default -> 600 + random.nextInt(900);
            };
            for (int j = 0; j < size; j += 8)
            {
                final long bits = random.nextLong();
                for (int b = j; b < Math.min(size, j + 8); b++)
                {
                    state[b] = (byte)(bits >>> (8 * (b - j)));
                }
            }
            if (keys.add(key))
            {
                sink.accept(key, ByteBuffer.wrap(state, 0, size));
            }
        }
    }

    /**
     * Pushes the states through one reused buffer whose position is not 0, as a codec writing into a scratch
     * buffer would: only position..limit is the state.
     */
    static EntrySource source(final Map<Long, byte[]> states)
    {
        return sink ->
        {
            final ByteBuffer buffer = ByteBuffer.allocate(8192);
            for (final Map.Entry<Long, byte[]> e : states.entrySet())
            {
                buffer.clear().position(5);
                buffer.put(e.getValue()).flip().position(5);
                sink.accept(e.getKey(), buffer);
            }
        };
    }
}
