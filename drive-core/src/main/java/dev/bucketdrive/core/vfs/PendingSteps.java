package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.local.PendingOp;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The copy and delete steps not done yet (a mirror of the journal's), found by id and by the keys they
 * touch (a step's key, and a copy's target). Every question the write-back asks of them, for each
 * upload it considers, each step it starts and each name a listing brings, is a lookup by key: a scan
 * of all steps for each was quadratic, and an {@code rm -r} of a few thousand files stalled writes for
 * seconds. Not thread-safe: {@link WriteBack} uses it under its lock.
 */
final class PendingSteps {

    private final Map<Long, PendingOp> byId = new HashMap<>();
    /** Key → the ids of the steps whose key or target it is. Sorted, for prefixes. */
    private final TreeMap<String, NavigableSet<Long>> byKey = new TreeMap<>();

    void add(PendingOp step) {
        if (byId.put(step.id(), step) == null) {
            byKey.computeIfAbsent(step.key(), k -> new TreeSet<>()).add(step.id());
            if (step.target() != null) {
                byKey.computeIfAbsent(step.target(), k -> new TreeSet<>()).add(step.id());
            }
        }
    }

    void remove(long id) {
        PendingOp step = byId.remove(id);
        if (step != null) {
            unindex(step.key(), id);
            if (step.target() != null) {
                unindex(step.target(), id);
            }
        }
    }

    private void unindex(String key, long id) {
        NavigableSet<Long> ids = byKey.get(key);
        if (ids != null && ids.remove(id) && ids.isEmpty()) {
            byKey.remove(key);
        }
    }

    boolean contains(long id) {
        return byId.containsKey(id);
    }

    /** Whether a step's key or target is {@code key}. */
    boolean touches(String key) {
        return byKey.containsKey(key);
    }

    /** Whether a step's key or target starts with {@code prefix}. */
    boolean touchesUnder(String prefix) {
        // Keys starting with the prefix sort together, right from it: the first key at or after it tells.
        String first = byKey.ceilingKey(prefix);
        return first != null && first.startsWith(prefix);
    }

    /** Whether a step's key or target starts with {@code dirKey} (a directory's marker, ending in '/') and is longer. */
    boolean touchesBelow(String dirKey) {
        String first = byKey.higherKey(dirKey);
        return first != null && first.startsWith(dirKey);
    }

    /** Whether a step added before {@code id} touches {@code key}. */
    boolean touchedBefore(String key, long id) {
        NavigableSet<Long> ids = byKey.get(key);
        return ids != null && ids.first() < id;
    }

    /** The source of a pending copy to {@code target}, or null: until it runs, the object is still there. */
    String copySourceOf(String target) {
        for (long id : byKey.getOrDefault(target, Collections.emptyNavigableSet())) {
            PendingOp step = byId.get(id);
            if (step.kind() == PendingOp.Kind.COPY && target.equals(step.target())) {
                return step.key();
            }
        }
        return null;
    }
}
