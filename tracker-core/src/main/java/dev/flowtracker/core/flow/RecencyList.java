package dev.flowtracker.core.flow;

/**
 * An order of small integer ids (0 to capacity - 1) from least to most recently used, as a doubly linked list over
 * two {@code int} arrays: every operation is O(1) and allocates nothing. Ids not on the list are the caller's to
 * track. Owned by one thread (its store's).
 */
final class RecencyList
{
    static final int NONE = -1;

    private final int[] prev;
    private final int[] next;
    private int head = NONE;
    private int tail = NONE;

    RecencyList(final int capacity)
    {
        prev = new int[capacity];
        next = new int[capacity];
    }

    /** The least recently used id, or {@link #NONE} when the list is empty. */
    int leastRecent()
    {
        return head;
    }

    /** Adds {@code id} (not on the list) as the most recently used. */
    void addMostRecent(final int id)
    {
        prev[id] = tail;
        next[id] = NONE;
        if (tail == NONE)
        {
            head = id;
        }
        else
        {
            next[tail] = id;
        }
        tail = id;
    }

    /** Adds {@code id} (not on the list) as the least recently used: the next one {@link #leastRecent} names. */
    void addLeastRecent(final int id)
    {
        next[id] = head;
        prev[id] = NONE;
        if (head == NONE)
        {
            tail = id;
        }
        else
        {
            prev[head] = id;
        }
        head = id;
    }

    /** {@code id} (on the list) becomes the most recently used. */
    void touch(final int id)
    {
        if (id != tail)
        {
            remove(id);
            addMostRecent(id);
        }
    }

    /** {@code id} (on the list) becomes the least recently used. */
    void demote(final int id)
    {
        if (id != head)
        {
            remove(id);
            addLeastRecent(id);
        }
    }

    /** Takes {@code id} (on the list) off it. */
    void remove(final int id)
    {
        final int before = prev[id];
        final int after = next[id];
        if (before == NONE)
        {
            head = after;
        }
        else
        {
            next[before] = after;
        }
        if (after == NONE)
        {
            tail = before;
        }
        else
        {
            prev[after] = before;
        }
    }
}
