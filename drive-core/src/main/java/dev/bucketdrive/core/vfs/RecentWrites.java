package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.CompletedPart;
import dev.bucketdrive.core.store.CopyOptions;
import dev.bucketdrive.core.store.MultipartUpload;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.WriteCondition;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The keys this mount changed in the bucket while an answer from the bucket was in flight. A listing
 * or a HEAD sent before one of our PUTs, copies or deletes landed can come back after it, showing the
 * key as it was; applied, it would undo the change: bring back a key just deleted or renamed away,
 * drop a key just copied or uploaded, or put an old ETag back. So a reader takes a {@link #mark}
 * before it sends its request, leaves alone every key {@link #changedSince} that mark, and
 * {@link #release}s the mark when it is done. Writes are recorded when the store returns, failed ones
 * too (the server may have acted before the failure). Only writes a reader in flight may have missed
 * are kept.
 */
final class RecentWrites {

    private final AtomicLong sequence = new AtomicLong();
    /** Key → the sequence number of its last write. */
    private final ConcurrentSkipListMap<String, Long> written = new ConcurrentSkipListMap<>();
    /** The marks of the readers in flight, with their counts (guarded by {@code this}). */
    private final TreeMap<Long, Integer> readers = new TreeMap<>();

    /** Call before sending the request whose answer will be compared with local state. */
    synchronized long mark() {
        long mark = sequence.get();
        readers.merge(mark, 1, Integer::sum);
        return mark;
    }

    synchronized void release(long mark) {
        readers.computeIfPresent(mark, (m, n) -> n == 1 ? null : n - 1);
        if (written.isEmpty()) {
            return;
        }
        long oldest = readers.isEmpty() ? sequence.get() : readers.firstKey();
        if (readers.isEmpty() || mark < oldest) {
            written.values().removeIf(s -> s <= oldest);
        }
    }

    /** Whether this mount wrote {@code key} after {@code mark} was taken. */
    boolean changedSince(String key, long mark) {
        Long s = written.get(key);
        return s != null && s > mark;
    }

    /** Whether this mount wrote any key starting with {@code prefix} after {@code mark} was taken. */
    boolean changedUnderSince(String prefix, long mark) {
        for (long s : written.subMap(prefix, prefix + Character.MAX_VALUE).values()) {
            if (s > mark) {
                return true;
            }
        }
        return false;
    }

    private void wrote(String key) {
        written.put(key, sequence.incrementAndGet());
    }

    /** {@code store}, recording here every key it is asked to write, copy to or delete. */
    ObjectStore recording(ObjectStore store) {
        return new Recording(store);
    }

    private final class Recording extends ForwardingObjectStore {

        Recording(ObjectStore store) {
            super(store);
        }

        @Override
        public String put(String key, Body body, PutOptions options) {
            try {
                return store.put(key, body, options);
            } finally {
                wrote(key);
            }
        }

        @Override
        public String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition condition) {
            try {
                return store.completeMultipart(upload, parts, condition);
            } finally {
                wrote(upload.key());
            }
        }

        @Override
        public String copy(String sourceKey, String targetKey, CopyOptions options) {
            try {
                return store.copy(sourceKey, targetKey, options);
            } finally {
                wrote(targetKey);
            }
        }

        @Override
        public void delete(String key) {
            try {
                store.delete(key);
            } finally {
                wrote(key);
            }
        }

        @Override
        public Map<String, StoreException> deleteAll(Collection<String> keys) {
            try {
                return store.deleteAll(keys);
            } finally {
                keys.forEach(RecentWrites.this::wrote);
            }
        }
    }
}
