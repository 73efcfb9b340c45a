package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.CompletedPart;
import dev.bucketdrive.core.store.MultipartUpload;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streaming upload: the parts of a big new file are sent while it is still being written, so it is in
 * the bucket shortly after its close. Once a file open for writing holds a full part past the parts
 * sent, a multipart upload is started for it and that part goes out in the background. The upload
 * after the close {@linkplain #take takes} the stream, reuses every part whose chunks did not change
 * since it was sent and completes it. Anything that makes the stream useless (a rename, a truncate, a
 * conflict, a deleted file) {@linkplain #discard aborts} it, and the final upload sends those parts
 * again. Nothing of a stream is persistent: after a crash the upload starts over from the journal.
 * While a stream lasts, the chunks of its sent parts do not count toward the cache's dirty limit
 * ({@code ChunkStore.sentAsPart}): a file bigger than that limit streams through the cache instead of
 * waiting for room that only its own close could make.
 *
 * <p>Only files with no remote bytes to keep stream (new files and files truncated to zero): their
 * parts are the cache's dirty chunks alone. A stream sends up to {@link #PARTS_AT_ONCE} parts at the
 * same time, started in order: one at a time falls behind a writer faster than one connection to
 * the bucket, which leaves most parts for after the close. A part starts beside others only while
 * the processors have room ({@code roomForMoreParts}): when they are all busy, more connections
 * cannot send faster, and a part sent now takes processor time from the writer (on a server on
 * the same machine, the close of a 256 MiB write came 0.2-0.5 s later; docs/BENCHMARKS.md, session
 * 31). A file's sender waits for its parts; they run on an executor of their own, so a waiting
 * sender never holds up a part.
 */
final class PartStreams implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartStreams.class);

    /** What the file's content looked like when it was sent: the part and its chunks' generations. */
    record SentPart(CompletedPart part, long length, Map<Integer, Long> generations) {
    }

    /** How many parts of one stream are sent at the same time, at most. */
    static final int PARTS_AT_ONCE = 4;

    /**
     * A multipart upload of one file, fed while the file is written. {@code sending} (parts are on
     * their way) and {@code closed} are guarded by its monitor; {@code nextPart}, the next part to
     * start, belongs to the file's one sender at a time.
     */
    static final class Stream {
        final long fileId;
        final String key;
        final String base;
        final long partSize;
        /** The object metadata the upload was created with (the file's attributes then). */
        final Map<String, String> metadata;
        final MultipartUpload upload;
        final Map<Integer, SentPart> sent = new ConcurrentHashMap<>();
        /** The first part not sent yet; parts below it changed since are sent again at the end. */
        private int nextPart = 1;
        private boolean sending;
        private boolean closed;

        Stream(long fileId, String key, String base, long partSize, Map<String, String> metadata,
               MultipartUpload upload) {
            this.fileId = fileId;
            this.key = key;
            this.base = base;
            this.partSize = partSize;
            this.metadata = metadata;
            this.upload = upload;
        }

        /** Whether the stream is one for that target: the same key and base version. */
        boolean isFor(Target t) {
            return key.equals(t.key()) && Objects.equals(base, t.base());
        }

        /** Stops new parts and waits for those on their way. */
        synchronized void close() {
            closed = true;
            while (sending) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** What a stream needs of the drive. */
    interface Source {
        /** The file's key, base version (null: new key) and size while it may stream, else null. */
        Target target(long fileId);

        /** The generation of each dirty chunk of the file. */
        Map<Integer, Long> dirtyChunks(long fileId);

        /** Fills {@code into} with the file's bytes from {@code start}. */
        void content(long fileId, long start, byte[] into);

        /** A part was sent: its chunks, at these generations, are in the bucket while the upload is open. */
        void sent(long fileId, Map<Integer, Long> generations);

        /** The file's stream was taken by its upload or given up: what it sent counts as unsent again. */
        void ended(long fileId);
    }

    record Target(String key, String base, long size, PutOptions options) {
    }

    private final ObjectStore store;
    private final Source source;
    private final long partSize;
    private final int chunkSize;
    private final ConcurrentHashMap<Long, Stream> streams = new ConcurrentHashMap<>();
    /** Per file: writes that completed a part since its sender last looked; one sender per file at a time. */
    private final ConcurrentHashMap<Long, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final Executor senders;
    private final Executor parts;
    private final BooleanSupplier roomForMoreParts;
    private final BufferPool partBuffers;
    /** Set by {@link #close}: a sender still running starts no new stream (it would outlive the drive). */
    private volatile boolean closed;

    /**
     * @param senders runs each file's sender, which waits for the parts it hands to {@code parts}
     * @param parts sends the parts; its tasks never wait for anything but the cache and the bucket
     * @param roomForMoreParts whether another part may start while one is on its way (see the class comment)
     * @param partBuffers the arrays parts of {@code partSize} are read into
     */
    PartStreams(ObjectStore store, Source source, int chunkSize, long partSize, Executor senders,
                Executor parts, BooleanSupplier roomForMoreParts, BufferPool partBuffers) {
        this.store = store;
        this.source = source;
        this.chunkSize = chunkSize;
        this.partSize = partSize;
        this.senders = senders;
        this.parts = parts;
        this.roomForMoreParts = roomForMoreParts;
        this.partBuffers = partBuffers;
    }

    /** A write ended at {@code end}: when it completed a part, the parts ready are sent in the background. */
    void written(long fileId, long end, long start) {
        if (end < 2 * partSize || end / partSize == start / partSize && end % partSize != 0) {
            return; // small so far, or still inside one part
        }
        AtomicInteger pending = requests.computeIfAbsent(fileId, id -> new AtomicInteger());
        if (pending.getAndIncrement() == 0) {
            senders.execute(() -> {
                int seen;
                do {
                    seen = pending.get();
                    try {
                        sendReady(fileId);
                    } catch (RuntimeException e) {
                        LOG.debug("streaming part of file {}: {}", fileId, e.toString());
                        discard(fileId);
                    }
                } while (pending.addAndGet(-seen) != 0);
            });
        }
    }

    /**
     * Sends the file's parts that are ready, up to {@link #PARTS_AT_ONCE} at a time: a new one starts
     * as soon as one is done and the next is all written, so the parts keep pace with the writer.
     * Returns when nothing is on its way and nothing more is ready (a later write calls again).
     */
    private void sendReady(long fileId) {
        Target t = closed ? null : source.target(fileId);
        if (t == null) {
            return; // closed (its upload takes the stream), or no longer a file that can stream
        }
        Stream s = streams.get(fileId);
        if (s != null && !s.isFor(t)) {
            discard(fileId);
            s = null;
        }
        List<CompletableFuture<Void>> onTheirWay = new ArrayList<>();
        try {
            Map<Integer, Long> dirty = source.dirtyChunks(fileId);
            boolean lookedAgain = true; // at the file, since the last part started or ended
            while (true) {
                throwFirstFailure(onTheirWay);
                int number = s == null ? 1 : s.nextPart;
                long start = (number - 1) * partSize;
                Map<Integer, Long> gens = number * partSize <= t.size() ? generations(dirty, start) : null;
                if (gens != null && (onTheirWay.isEmpty()
                        || onTheirWay.size() < PARTS_AT_ONCE && roomForMoreParts.getAsBoolean())) {
                    if (s == null) {
                        s = newStream(fileId, t);
                        if (s == null) {
                            return;
                        }
                    }
                    synchronized (s) {
                        if (s.closed) {
                            return; // its upload took it, or it was given up
                        }
                        s.sending = true;
                    }
                    Stream stream = s;
                    ReadyPart part = new ReadyPart(number, start, gens);
                    onTheirWay.add(CompletableFuture.runAsync(() -> send(stream, part), parts));
                    s.nextPart = number + 1;
                    lookedAgain = false;
                } else if (gens == null && !lookedAgain) {
                    t = source.target(fileId); // written further since?
                    if (t == null || s != null && !s.isFor(t)) {
                        return;
                    }
                    dirty = source.dirtyChunks(fileId);
                    lookedAgain = true;
                } else if (onTheirWay.isEmpty()) {
                    return;
                } else {
                    CompletableFuture.anyOf(onTheirWay.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
                    lookedAgain = false;
                }
            }
        } finally {
            for (CompletableFuture<Void> send : onTheirWay) {
                send.exceptionally(e -> null).join(); // none may be on its way when the stream is given up
            }
            if (s != null) {
                synchronized (s) {
                    s.sending = false;
                    s.notifyAll();
                }
            }
        }
    }

    /** A new stream for the file, now listed; null if one came first or this closed meanwhile. */
    private Stream newStream(long fileId, Target t) {
        if (closed) {
            return null;
        }
        Stream created = new Stream(fileId, t.key(), t.base(), partSize, t.options().metadata(),
                store.createMultipart(t.key(), t.options()));
        if (streams.putIfAbsent(fileId, created) != null || closed) {
            streams.remove(fileId, created);
            abort(created);
            return null;
        }
        return created;
    }

    /** A part whose chunks were all written: its number, where it starts, its chunks' generations. */
    private record ReadyPart(int number, long start, Map<Integer, Long> generations) {
    }

    private void send(Stream s, ReadyPart p) {
        byte[] data = partBuffers.take((int) partSize);
        try {
            source.content(s.fileId, p.start(), data);
            CompletedPart part = store.uploadPart(s.upload, p.number(), Body.of(data));
            // Kept only if the part did not change while it was read.
            if (p.generations().equals(generations(source.dirtyChunks(s.fileId), p.start()))) {
                s.sent.put(p.number(), new SentPart(part, partSize, p.generations()));
                source.sent(s.fileId, p.generations());
            }
        } finally {
            partBuffers.give(data);
        }
    }

    /** Forgets the parts that are done; throws the failure of the first that failed. */
    private static void throwFirstFailure(List<CompletableFuture<Void>> sends) {
        for (var it = sends.iterator(); it.hasNext(); ) {
            CompletableFuture<Void> send = it.next();
            if (send.isDone()) {
                try {
                    send.join();
                } catch (CompletionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                }
                it.remove();
            }
        }
    }

    /** The generations of the chunks of the part at {@code start}, or null unless all of them are dirty. */
    private Map<Integer, Long> generations(Map<Integer, Long> dirty, long start) {
        Map<Integer, Long> out = new HashMap<>();
        for (long pos = start; pos < start + partSize; pos += chunkSize) {
            Long gen = dirty.get((int) (pos / chunkSize));
            if (gen == null) {
                return null;
            }
            out.put((int) (pos / chunkSize), gen);
        }
        return out;
    }

    /**
     * The file's stream if it was made for this upload (same key, base version and part size), now
     * owned by the caller, who completes or aborts its upload; else null (and any stream of the file
     * is aborted).
     */
    Stream take(long fileId, String key, String base, long partSize) {
        requests.remove(fileId);
        Stream s = streams.remove(fileId);
        if (s == null) {
            return null;
        }
        s.close();
        source.ended(fileId);
        if (s.key.equals(key) && Objects.equals(s.base, base) && s.partSize == partSize) {
            return s;
        }
        abort(s);
        return null;
    }

    /** Whether a part is being sent or waits for its sender. */
    boolean sending() {
        for (AtomicInteger pending : requests.values()) {
            if (pending.get() > 0) {
                return true;
            }
        }
        return false;
    }

    boolean has(long fileId) {
        return streams.containsKey(fileId);
    }

    /** Aborts the file's stream, if any. */
    void discard(long fileId) {
        requests.remove(fileId);
        Stream s = streams.remove(fileId);
        if (s != null) {
            s.close();
            source.ended(fileId);
            abort(s);
        }
    }

    void abort(Stream s) {
        try {
            store.abortMultipart(s.upload);
        } catch (RuntimeException e) {
            LOG.debug("abort of the streamed upload to {} failed: {}", s.key, e.toString());
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Long id : streams.keySet()) {
            discard(id);
        }
    }
}
