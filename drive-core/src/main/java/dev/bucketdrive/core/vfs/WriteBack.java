package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.attrs.PosixAttributes;
import dev.bucketdrive.core.attrs.PosixMetadata;
import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.ChunkStore;
import dev.bucketdrive.core.local.Entry;
import dev.bucketdrive.core.local.PendingOp;
import dev.bucketdrive.core.local.UploadJournal;
import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.CompletedPart;
import dev.bucketdrive.core.store.CopyOptions;
import dev.bucketdrive.core.store.MultipartUpload;
import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.WriteCondition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Works off the {@link dev.bucketdrive.core.local.UploadJournal}: uploads changed files when they fall
 * due, runs the copy and delete steps of renames and unlinks, retries failures with exponential backoff
 * (never dropping one), and turns a lost race with another writer into a conflict copy.
 *
 * <p>Ordering: a step (COPY or DELETE) runs only when no older step touches one of its keys and no
 * upload to them is in flight; an upload waits while a step touches its key. So a rename's copy
 * comes before its delete, and a file re-created after an unlink uploads after the delete.
 *
 * <p>An upload never sends a torn object: it reads the file's content, then checks that no chunk was
 * written meanwhile (chunk generations); a file open for writing is not uploaded until it is closed,
 * unless an fsync asks.
 */
final class WriteBack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WriteBack.class);
    /** Parts of a multipart copy: big, since nothing is sent (S3 allows up to 5 GiB). */
    static final long COPY_PART_SIZE = 512L * 1024 * 1024;
    static final int PART_SENDERS = 4;
    /**
     * The most bytes, in KiB, that the bodies of single PUTs (files up to {@link Drive#SINGLE_PUT_LIMIT},
     * read whole into memory) hold at once, all uploads together: 32 MiB. Small files upload as many
     * at once as there are upload threads; two of 16 MiB fill it. Multipart uploads read their parts
     * into the part senders' arrays and need none of it.
     */
    static final int PUT_BODY_BUDGET_KIB = 32 * 1024;
    /**
     * A pause in writing, which due uploads wait for: this long without a write to the drive. Within a
     * bulk copy or an untar the writes come far closer. The write-back delay (1 s by default) counts
     * from a file's close and coalesces its rewrites; as the pause too it held the uploads of an
     * untar back for that long after its end (docs/BENCHMARKS.md, session 43).
     */
    static final Duration PAUSE = Duration.ofMillis(250);
    /** Upload threads left idle this long end: most of the time nothing uploads. */
    private static final long IDLE_WORKER_SECONDS = 30;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    private static final int MAX_RECENT = 20;
    private static final long MAX_BACKOFF_MS = 5 * 60_000;

    private final Drive drive;
    private final ObjectStore store;
    private final ChunkStore chunks;
    private final ExecutorService workers;
    /** Sends the parts of multipart uploads, {@value #PART_SENDERS} at a time. */
    private final ExecutorService partSenders;
    /** Runs the senders of streams (one per file streaming), which wait for their parts on {@link #partSenders}. */
    private final ExecutorService streamSenders;
    /** The arrays parts are read into, one per part sender. */
    private final BufferPool partBuffers;
    final PartStreams streams;
    private final Semaphore slots;
    /** KiB of PUT bodies that may still be read into memory (see {@link #PUT_BODY_BUDGET_KIB}); FIFO, so a big body is not passed by ever more small ones. */
    private final Semaphore putBodyBudget = new Semaphore(PUT_BODY_BUDGET_KIB, true);
    private final Thread scheduler;
    private volatile boolean running = true;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /** Files with a pending upload (mirror of the journal, for cheap checks). */
    private final Map<Long, Long> pendingUploads = new ConcurrentHashMap<>();
    /** Steps not done yet (mirror of the journal). Guarded by {@link #lock}. */
    private final PendingSteps steps = new PendingSteps();
    private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();
    /** The server answered a DeleteObjects as not implemented: several DELETE steps go one a request. */
    private volatile boolean deleteObjectsRefused;
    /** DELETE requests the scheduler has in flight, at most one (see {@link #deletesAlongside}). Guarded by {@link #lock}. */
    private int deleteRequests;
    /**
     * Keys being uploaded right now → the upload's claim. Each claim is its own object, so that an
     * upload ending removes only its own and never that of the file's next upload.
     */
    private final Map<String, UploadClaim> uploadingKeys = new ConcurrentHashMap<>();
    /**
     * Uploads under way, by file, each with how much of the file the content it took still is (see
     * {@link #cutting}). Guarded by its own monitor. Lock order: after the namespace lock, before the
     * cache's locks.
     */
    private final Map<Long, CutWatch> cutWatches = new HashMap<>();
    /** Key prefixes whose uploads wait, with how many renames under way pause each. */
    private final Map<String, Integer> paused = new ConcurrentHashMap<>();
    /** The sequence of each file's last finished upload, for fsync. */
    private final Map<Long, Long> uploadedSequence = new ConcurrentHashMap<>();
    /**
     * Files whose upload does not wait for a pause in writing: an fsync waits for it, or its parts
     * are on their way already. Cleared when an upload of the file finishes.
     */
    private final Set<Long> urgent = ConcurrentHashMap.newKeySet();
    /** When the drive last took a write, by its clock (see {@link #wrote}). */
    private volatile long lastWriteMillis = Long.MIN_VALUE / 2;
    /** Unmount is draining the queue: nothing waits for a pause. */
    private volatile boolean draining;
    /**
     * When the scheduler will look at the journal again unless woken; the far future while it is
     * looking. A new entry due before then wakes it; during a bulk copy none does.
     */
    private volatile long sleepsUntilMillis = Long.MAX_VALUE;
    /**
     * A {@link #wake} came since the scheduler's pass began (guarded by {@link #lock}): it looks again
     * at once instead of sleeping, so a wake during a pass is not lost (it was, and a drain's upload
     * could then wait up to a second for the next look).
     */
    private boolean wakeRequested;
    /** Past the free slots, a read of due entries takes this many more at least: a read costs about the same for 10 rows as for 35. */
    private static final int MIN_LOOK_PAST = 32;
    private static final int MAX_LOOK_PAST = 4096;
    /** How many due entries past the free slots the scheduler reads. Scheduler thread only. */
    private int lookPast = MIN_LOOK_PAST;
    /** Due entries the scheduler read and has not looked at yet, oldest first. Scheduler thread only. */
    private final Deque<PendingOp> dueRead = new ArrayDeque<>();
    /** When {@link #dueRead} was read, by the drive's clock. */
    private long dueReadAt;
    /** How long entries read as due are taken from {@link #dueRead} before the journal is read again. */
    private static final long DUE_READ_KEPT_MS = 1000;
    private final Deque<String> conflicts = new ArrayDeque<>();
    private final Deque<String> recentErrors = new ArrayDeque<>();
    /**
     * Uploads that landed in the bucket but could not be recorded here (a failed commit of the cache),
     * by file: the retry, refused because the object is no longer at the version it was based on,
     * finds its own version there and records it instead of taking it for another writer's.
     * Memory only: after a restart such a retry still makes a conflict copy.
     */
    private final Map<Long, Landed> landedUnrecorded = new ConcurrentHashMap<>();

    /** The version an upload made, and the generations of the chunks it sent. */
    private record Landed(String etag, Map<Integer, Long> gens) {
    }

    WriteBack(Drive drive) {
        this.drive = drive;
        this.store = drive.store;
        this.chunks = drive.chunks;
        int threads = drive.options.uploadThreads();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, IDLE_WORKER_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), Thread.ofPlatform().name("upload-", 0).daemon().factory());
        pool.allowCoreThreadTimeOut(true);
        this.workers = pool;
        this.slots = new Semaphore(threads);
        this.scheduler = Thread.ofPlatform().name("write-back").daemon().unstarted(this::loop);
        this.partSenders = Executors.newFixedThreadPool(PART_SENDERS,
                Thread.ofPlatform().name("part-sender-", 0).daemon().factory());
        this.partBuffers = new BufferPool((int) partSize(0), PART_SENDERS);
        this.streamSenders = Executors.newFixedThreadPool(PART_SENDERS,
                Thread.ofPlatform().name("stream-sender-", 0).daemon().factory());
        this.streams = new PartStreams(store, new StreamSource(), drive.chunkSize, partSize(0), streamSenders,
                partSenders, ProcessorLoad::hasRoom, partBuffers);
    }

    /** The part size of a multipart upload of {@code size} bytes: whole chunks, at least 5 MiB, at most 10,000 parts. */
    long partSize(long size) {
        int cs = drive.chunkSize;
        long partSize = Math.max(ObjectStore.MIN_PART_SIZE, 2L * cs);
        partSize = (partSize + cs - 1) / cs * cs;
        while ((size + partSize - 1) / partSize > ObjectStore.MAX_PARTS) {
            partSize *= 2;
        }
        return partSize;
    }

    /** What a streamed upload reads of the drive: new files open for writing, their dirty chunks. */
    private final class StreamSource implements PartStreams.Source {
        @Override
        public PartStreams.Target target(long fileId) {
            Node n = drive.openNode(fileId);
            if (n == null) {
                return null;
            }
            String path;
            long size;
            PosixAttributes attrs;
            synchronized (n) {
                if (n.type != Entry.Type.FILE || n.unlinked || n.writers == 0 || n.remoteLimit > 0) {
                    return null;
                }
                path = n.path;
                size = n.size;
                attrs = new PosixAttributes(n.mode, n.uid, n.gid, n.mtimeMillis);
            }
            Optional<PendingOp> op = drive.journal.uploadOf(fileId);
            if (op.isEmpty()) {
                return null;
            }
            String type = contentType(path.substring(path.lastIndexOf('/') + 1), Entry.Type.FILE);
            return new PartStreams.Target(drive.key(path), op.get().baseEtag(), size,
                    new PutOptions(type, PosixMetadata.write(attrs), WriteCondition.NONE));
        }

        @Override
        public Map<Integer, Long> dirtyChunks(long fileId) {
            return chunks.dirtyChunks(fileId);
        }

        @Override
        public void content(long fileId, long start, byte[] into) {
            drive.content(fileId, null, null, 0, start, into, into.length);
        }

        @Override
        public void sent(long fileId, Map<Integer, Long> generations) {
            generations.forEach((index, generation) -> chunks.sentAsPart(new ChunkKey(fileId, index), generation));
        }

        @Override
        public void ended(long fileId) {
            chunks.countSentParts(fileId);
        }
    }

    /** Loads the journal and resumes it: uploads held for files open at a crash become due now. */
    void start() {
        Instant now = Instant.ofEpochMilli(drive.now());
        Instant soon = now.plus(drive.options.writeBackDelay());
        for (PendingOp op : drive.journal.all()) {
            if (op.kind() == PendingOp.Kind.UPLOAD) {
                pendingUploads.put(op.fileId(), op.id());
                if (op.due().isAfter(soon)) {
                    recoverHeld(op, now);
                }
            } else {
                lock.lock();
                try {
                    steps.add(op);
                } finally {
                    lock.unlock();
                }
            }
        }
        chunks.roomMadeBy(this::mayMakeRoom);
        drive.unfinishedUploads.abortLeftovers(store, workers);
        scheduler.start();
    }

    /**
     * Whether the cache may soon have more room: an upload, step or part is running, a close is under
     * way, or an entry is due within twice the longest retry backoff. The uploads of files still open
     * are held for a day, so they do not count: those files' dirty bytes wait for a close.
     */
    private boolean mayMakeRoom() {
        if (!inFlight.isEmpty() || streams.sending() || drive.closing()) {
            return true;
        }
        long soon = drive.now() + 2 * MAX_BACKOFF_MS;
        return drive.journal.nextDue().filter(due -> due.toEpochMilli() <= soon).isPresent();
    }

    /**
     * A file was open for writing when the last run ended. What reached the cache is uploaded, as a
     * local disk keeps what reached it before a crash; the size covers every dirty chunk.
     */
    private void recoverHeld(PendingOp op, Instant now) {
        Optional<Entry> e = drive.index.byId(op.fileId());
        if (e.isPresent() && e.get().type() != Entry.Type.DIRECTORY) {
            long extent = e.get().size();
            for (int idx : chunks.dirtyChunks(op.fileId()).keySet()) {
                int len = chunks.length(new dev.bucketdrive.core.local.ChunkKey(op.fileId(), idx));
                extent = Math.max(extent, (long) idx * drive.chunkSize + Math.max(0, len));
            }
            if (extent != e.get().size()) {
                drive.index.upsert(e.get().withSize(extent));
            }
            LOG.info("resuming the upload of /{}, which was open when the drive stopped", e.get().path());
        }
        drive.journal.scheduleUpload(op.fileId(), op.key(), null, now);
    }

    // ---------------------------------------------------------------- what the drive asks

    PendingOp scheduleUpload(long fileId, String key, String base, Instant due) {
        return scheduleUpload(fileId, key, base, due, true);
    }

    /** {@code sync} false: durable once the caller has the journal {@linkplain UploadJournal#sync sync}. */
    PendingOp scheduleUpload(long fileId, String key, String base, Instant due, boolean sync) {
        if (streams.has(fileId)) {
            due = Instant.ofEpochMilli(drive.now()); // its parts are on their way: no reason to wait
            urgent.add(fileId);
        }
        return schedule(fileId, sync ? drive.journal.scheduleUpload(fileId, key, base, due)
                : drive.journal.holdUpload(fileId, key, base, due), due);
    }

    /** An upload for a file still open: see {@link dev.bucketdrive.core.local.UploadJournal#holdUpload}. */
    PendingOp holdUpload(long fileId, String key, String base, Instant due) {
        return schedule(fileId, drive.journal.holdUpload(fileId, key, base, due), due);
    }

    /** A file's journal entry was rolled back with the transaction that made it. */
    void forgetUpload(long fileId) {
        pendingUploads.remove(fileId);
    }

    private PendingOp schedule(long fileId, PendingOp op, Instant due) {
        pendingUploads.put(fileId, op.id());
        if (due.toEpochMilli() < sleepsUntilMillis) {
            wake();
        }
        return op;
    }

    /**
     * The drive took a write (content, attributes or a new file). Uploads that fell due wait until
     * the drive has taken none for a pause ({@link #pauseMillis}), at most the write-back max delay
     * after the close: a bulk copy gets the CPU, disk and network first, and its files upload once
     * it pauses.
     */
    void wrote() {
        lastWriteMillis = drive.now();
    }

    /**
     * How long the drive must have taken no write for its writing to count as paused: {@link #PAUSE},
     * or the write-back delay when that is shorter.
     */
    private long pauseMillis() {
        return Math.min(PAUSE.toMillis(), drive.options.writeBackDelay().toMillis());
    }

    /** Uploads due by this time may start; later ones wait for a pause in writing. */
    private Instant uploadsDueBy(long now) {
        long delay = drive.options.writeBackDelay().toMillis();
        if (draining || delay == 0 || now - lastWriteMillis >= pauseMillis()) {
            return Instant.ofEpochMilli(now);
        }
        return Instant.ofEpochMilli(now - Math.max(0, drive.options.writeBackMaxDelay().toMillis() - delay));
    }

    /** The file's pending upload must now be conditional on {@code base} (it replaces that object). */
    void rebase(long fileId, String key, String base) {
        Optional<PendingOp> op = drive.journal.uploadOf(fileId);
        if (op.isPresent()) {
            drive.journal.rebase(fileId, base);
        } else {
            scheduleUpload(fileId, key, base, Instant.ofEpochMilli(drive.now()).plus(Drive.HELD_OPEN));
        }
    }

    PendingOp append(PendingOp.Kind kind, String key, String target, String base) {
        PendingOp op = drive.journal.append(kind, key, target, base, Instant.ofEpochMilli(drive.now()));
        lock.lock();
        try {
            steps.add(op);
        } finally {
            lock.unlock();
        }
        return op;
    }

    /** The transaction that appended these steps rolled back: they are not owed. */
    void forgetSteps(List<PendingOp> ops) {
        lock.lock();
        try {
            ops.forEach(op -> steps.remove(op.id()));
        } finally {
            lock.unlock();
        }
    }

    boolean hasPendingUpload(long fileId) {
        return pendingUploads.containsKey(fileId);
    }

    Set<Long> pendingUploadIds() {
        return Set.copyOf(pendingUploads.keySet());
    }

    /** Whether an object may exist (or be about to) for a file that has no ETag in the index. */
    boolean mayHaveUploaded(long fileId) {
        return pendingUploads.containsKey(fileId) || uploading(fileId);
    }

    /** Whether an upload of the file is in flight (from its dispatch until its end is recorded). */
    boolean uploading(long fileId) {
        return uploadingKeys.values().stream().anyMatch(c -> c.fileId == fileId);
    }

    /** Whether an upload to a key starting with {@code prefix} is in flight. */
    boolean uploadingUnder(String prefix) {
        return uploadingKeys.keySet().stream().anyMatch(k -> k.startsWith(prefix));
    }

    boolean hasPendingStep(String key) {
        lock.lock();
        try {
            return steps.touches(key);
        } finally {
            lock.unlock();
        }
    }

    /** Whether a rename or delete step is pending for a key under {@code prefix} (a directory's key). */
    boolean hasPendingStepUnder(String prefix) {
        lock.lock();
        try {
            return steps.touchesUnder(prefix);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no rename or delete step is pending for a key under {@code prefix}, up to
     * {@code timeout}; returns whether none is.
     */
    boolean awaitNoStepUnder(String prefix, Duration timeout) {
        wake();
        return awaitUnderLock(() -> !steps.touchesUnder(prefix), timeout);
    }

    /** Waits until {@code done} holds, looked at under {@link #lock} at each change, up to {@code timeout}. */
    private boolean awaitUnderLock(BooleanSupplier done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!done.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** While a rename's copy to {@code key} is pending, the object is still at the source. */
    String copySourceOf(String key) {
        lock.lock();
        try {
            return steps.copySourceOf(key);
        } finally {
            lock.unlock();
        }
    }

    /** Stops uploads below {@code prefix} from starting and waits for those in flight. */
    void pause(String prefix) {
        paused.merge(prefix, 1, Integer::sum);
        lock.lock();
        try {
            while (uploadingUnder(prefix)) {
                changed.await(100, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    void resume(String prefix) {
        paused.computeIfPresent(prefix, (p, n) -> n == 1 ? null : n - 1);
        wake();
    }

    /** Runs the steps of a rename now, in order, stopping at the first that cannot run or fails. */
    void runNow(List<PendingOp> ops) {
        int i = 0;
        while (i < ops.size()) {
            PendingOp op = ops.get(i);
            if (op.kind() == PendingOp.Kind.DELETE) {
                int j = i;
                while (j < ops.size() && ops.get(j).kind() == PendingOp.Kind.DELETE && j - i < ObjectStore.MAX_BATCH) {
                    j++;
                }
                if (!deleteBatch(ops.subList(i, j))) {
                    break;
                }
                i = j;
                continue;
            }
            if (!claim(op) || !runCopy(op)) {
                break;
            }
            i++;
        }
        wake();
    }

    private boolean claim(PendingOp op) {
        lock.lock();
        try {
            if (inFlight.contains(op.id()) || !stillPending(op) || !stepMayRun(op)) {
                return false;
            }
            inFlight.add(op.id());
            return true;
        } finally {
            lock.unlock();
        }
    }

    void wake() {
        lock.lock();
        try {
            wakeRequested = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A delete was journaled: the scheduler looks for it now, unless a delete request is out, whose
     * end wakes it (and this delete goes with the next batch). An {@code rm -r} woke it for each file
     * and each pass read the due rows only to find every delete waiting for the one request out.
     */
    void deleteJournaled() {
        lock.lock();
        try {
            if (deleteRequests > 0) {
                return;
            }
        } finally {
            lock.unlock();
        }
        wake();
    }

    /** Waits until an upload of the file at or after {@code sequence} finished, or nothing is pending. */
    boolean awaitUploaded(long fileId, long sequence, Duration timeout) {
        urgent.add(fileId);
        wake();
        return awaitUnderLock(() -> {
            if (!pendingUploads.containsKey(fileId) || uploadedSequence.getOrDefault(fileId, -1L) >= sequence) {
                return true;
            }
            urgent.add(fileId);
            return false;
        }, timeout);
    }

    int drain(Duration timeout, IntConsumer progress) {
        draining = true;
        try {
            return drainQueue(timeout, progress);
        } finally {
            draining = false;
        }
    }

    private int drainQueue(Duration timeout, IntConsumer progress) {
        Instant now = Instant.ofEpochMilli(drive.now());
        // Under the namespace lock, which uploads finish under: an entry completed since the listing
        // must not be brought back by this, or it would be a journal entry the scheduler does not know.
        // Every upload comes due, those with failed attempts included: a file rewritten after one is
        // due a write-back delay after its close, which may be hours, and keeps its attempt count.
        // One transaction: one commit for thousands of entries, not one WAL fsync each.
        drive.locked(() -> drive.transactions.inOne(() -> {
            for (PendingOp op : drive.journal.all()) {
                if (op.kind() == PendingOp.Kind.UPLOAD && op.due().isAfter(now)
                        && drive.journal.uploadOf(op.fileId()).filter(cur -> cur.id() == op.id()).isPresent()) {
                    schedule(op.fileId(), drive.journal.scheduleUpload(op.fileId(), op.key(), null, now), now);
                }
            }
            return null;
        }));
        wake();
        long deadline = System.nanoTime() + timeout.toNanos();
        int left = drive.journal.counts().total();
        while (left > 0 && System.nanoTime() < deadline) {
            progress.accept(left);
            // Counted four times a second, not at each finished upload: with thousands queued, reading
            // the journal after each one took as much CPU as the uploads themselves.
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            left = drive.journal.counts().total();
        }
        progress.accept(left);
        return left;
    }

    DriveStatus status(ChunkStore.Usage usage) {
        UploadJournal.Counts pending = drive.journal.counts();
        return new DriveStatus(pending.uploads(), pending.steps(), pending.failing(), usage.totalBytes(),
                usage.dirtyBytes(), recent(conflicts), recent(recentErrors));
    }

    private static List<String> recent(Deque<String> list) {
        synchronized (list) {
            return new ArrayList<>(list);
        }
    }

    @Override
    public void close() {
        running = false;
        wake();
        try {
            scheduler.join(5_000);
            workers.shutdown();
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("uploads still running at close; they stay in the journal and resume at the next mount");
                Pools.stop("uploads", workers);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Pools.stop("uploads", workers);
        } finally {
            streams.close();
            // A sender that looked at its file before may still be creating a stream's upload: it
            // aborts it itself once it sees the streams closed, before the drive is gone.
            Pools.stop("senders of streamed parts", streamSenders, partSenders);
        }
    }

    // ---------------------------------------------------------------- the scheduler

    private void loop() {
        while (running) {
            try {
                lock.lock();
                try {
                    wakeRequested = false; // this pass sees what came before
                } finally {
                    lock.unlock();
                }
                boolean dispatched = dispatchDue();
                drive.unfinishedUploads.retryWhenDue(store, workers);
                if (!dispatched) {
                    // Due entries that could not start wait for a slot or an entry ahead of them: any
                    // change wakes the loop, so no need to poll for them.
                    long now = drive.now();
                    long waitMs = slots.availablePermits() == 0 ? 1000L : drive.journal.nextDue()
                            .map(t -> Math.max(50, t.toEpochMilli() - now))
                            .orElse(1000L);
                    if (uploadsDueBy(now).toEpochMilli() < now) {
                        // Uploads wait for a pause in writing: look again when one could have begun.
                        waitMs = Math.max(waitMs, lastWriteMillis + pauseMillis() - now);
                    }
                    waitMs = Math.min(waitMs, 1000);
                    lock.lock();
                    try {
                        if (running && !wakeRequested) {
                            sleepsUntilMillis = now + waitMs;
                            changed.await(waitMs, TimeUnit.MILLISECONDS);
                        }
                    } finally {
                        sleepsUntilMillis = Long.MAX_VALUE;
                        lock.unlock();
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                LOG.warn("write-back scheduler: {}", t.toString());
                LOG.debug("write-back scheduler failure", t);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private boolean dispatchDue() {
        if (slots.availablePermits() == 0) {
            return false; // a finishing upload wakes the loop
        }
        long now = drive.now();
        boolean dispatched = false;
        for (long fileId : urgent) {
            Optional<PendingOp> op = drive.journal.uploadOf(fileId);
            if (op.isEmpty()) {
                urgent.remove(fileId);
            } else if (!op.get().due().isAfter(Instant.ofEpochMilli(now))) {
                Start started = start(op.get());
                if (started == Start.NO_SLOT) {
                    return dispatched;
                }
                dispatched |= started == Start.STARTED;
            }
        }
        // The oldest due entries: those in flight, then enough to fill the free slots past some that
        // must wait (for a rename, say); not the whole journal. This runs after every upload and a
        // read costs about 90 µs of CPU whatever its rows, so those not started for want of a slot
        // wait in dueRead for the next passes, until all are looked at or DUE_READ_KEPT_MS passed.
        // Entries falling due since sort after them.
        boolean read = dueRead.isEmpty() || now - dueReadAt > DUE_READ_KEPT_MS;
        int enough = inFlight.size() + slots.availablePermits() + lookPast;
        int readRows = 0;
        if (read) {
            List<PendingOp> oldest = drive.journal.due(Instant.ofEpochMilli(now), uploadsDueBy(now), enough);
            dueRead.clear();
            dueRead.addAll(oldest);
            dueReadAt = now;
            readRows = oldest.size();
        }
        long uploadsBy = Math.min(now, uploadsDueBy(now).toEpochMilli());
        while (running && !dueRead.isEmpty()) {
            PendingOp op = dueRead.peekFirst();
            // An upload read during a pause in writing waits again once writing resumed.
            Start started = op.kind() == PendingOp.Kind.UPLOAD && op.due().toEpochMilli() > uploadsBy
                    ? Start.WAITS : start(op);
            if (started == Start.NO_SLOT) {
                break;
            }
            dueRead.pollFirst();
            dispatched |= started == Start.STARTED;
        }
        if (!read) {
            // Every entry kept was looked at and slots are free: read on at once.
            return dispatched || (dueRead.isEmpty() && slots.availablePermits() > 0);
        }
        if (readRows < enough || slots.availablePermits() == 0) {
            lookPast = MIN_LOOK_PAST;
        } else if (lookPast < MAX_LOOK_PAST) {
            // The rows read did not fill the slots: the next pass, at once, looks further.
            lookPast *= 4;
            return true;
        }
        return dispatched;
    }

    /** What {@link #start} did with an entry. */
    private enum Start { STARTED, WAITS, NO_SLOT }

    /**
     * Starts an entry found due, unless it is in flight or done already, must wait (for a rename's
     * steps, a marker's contents, a paused prefix), or no slot is free.
     */
    private Start start(PendingOp op) {
        UploadClaim claim = null;
        List<PendingOp> deletes = null;
        lock.lock();
        try {
            if (!mayStart(op)) {
                return Start.WAITS;
            }
            if (!slots.tryAcquire()) {
                return Start.NO_SLOT;
            }
            inFlight.add(op.id());
            if (op.kind() == PendingOp.Kind.UPLOAD) {
                // Claimed under the lock, so no delete of this key can start before the upload ends.
                claim = new UploadClaim(op.fileId());
                uploadingKeys.put(op.key(), claim);
            } else if (op.kind() == PendingOp.Kind.DELETE) {
                deletes = deletesAlongside(op); // before the count: mayStart refuses DELETEs while one is out
                deleteRequests++;
            }
        } finally {
            lock.unlock();
        }
        UploadClaim claimed = claim;
        List<PendingOp> batch = deletes;
        workers.execute(() -> {
            try {
                if (op.kind() == PendingOp.Kind.UPLOAD) {
                    upload(op);
                } else if (batch != null) {
                    try {
                        sendDeletes(batch);
                    } finally {
                        lock.lock();
                        try {
                            deleteRequests--;
                        } finally {
                            lock.unlock();
                        }
                    }
                } else {
                    runCopy(op);
                }
                drive.unfinishedUploads.bucketAnswered(store, workers);
            } catch (ChangedWhileReading _) {
                drive.journal.postpone(op.id(), Instant.ofEpochMilli(drive.now() + 200));
            } catch (Throwable t) {
                failed(op, t);
            } finally {
                if (claimed != null) {
                    uploadingKeys.remove(op.key(), claimed);
                }
                inFlight.remove(op.id());
                slots.release();
                wake();
            }
        });
        return Start.STARTED;
    }

    /** Whether an entry found due may start now (no slot asked for yet). Called with {@link #lock} held. */
    private boolean mayStart(PendingOp op) {
        if (inFlight.contains(op.id()) || !stillPending(op)) {
            return false;
        }
        if (op.kind() == PendingOp.Kind.DELETE && deleteRequests > 0) {
            return false;
        }
        return op.kind() == PendingOp.Kind.UPLOAD ? uploadMayRun(op) : stepMayRun(op) && !markerWaits(op);
    }

    /**
     * {@code first}, a DELETE just claimed, with the other DELETEs read as due that may start, claimed
     * too (up to a request's {@link ObjectStore#MAX_BATCH}): they go in one request and one slot. An
     * {@code rm -r} journals a DELETE per file, and one request each cost the mount more than the
     * removal (a request's way through the SDK was a third of the mount's CPU). One such request is in
     * flight at a time ({@link #deleteRequests}), so the deletes falling due meanwhile gather for the
     * next. Called with {@link #lock} held.
     */
    private List<PendingOp> deletesAlongside(PendingOp first) {
        List<PendingOp> batch = new ArrayList<>();
        batch.add(first);
        for (PendingOp op : dueRead) {
            if (batch.size() == ObjectStore.MAX_BATCH) {
                break;
            }
            if (op.kind() == PendingOp.Kind.DELETE && mayStart(op)) {
                inFlight.add(op.id());
                batch.add(op);
            }
        }
        return batch;
    }

    /**
     * Whether an entry read from the journal a moment ago is still owed: a rename runs its steps in
     * the caller's thread, and a step it finished must not run again (a second DELETE of a key could
     * remove a new object written there since). Called with {@link #lock} held.
     */
    private boolean stillPending(PendingOp op) {
        return op.kind() == PendingOp.Kind.UPLOAD ? Long.valueOf(op.id()).equals(pendingUploads.get(op.fileId())) : steps.contains(op.id());
    }

    /** Called with {@link #lock} held. */
    private boolean stepMayRun(PendingOp op) {
        if (steps.touchedBefore(op.key(), op.id()) || (op.target() != null && steps.touchedBefore(op.target(), op.id()))) {
            return false;
        }
        return !uploadingKeys.containsKey(op.key()) && (op.target() == null || !uploadingKeys.containsKey(op.target()));
    }

    /**
     * Whether {@code op} deletes a directory's marker while steps below it are not done: the marker
     * goes last. A store that keeps objects as files refuses to delete a marker whose directory still
     * holds some (S3Proxy's filesystem store: HTTP 500), and with eight steps in flight at once an
     * {@code rm -r} made it retry (and its failures opened the circuit for every request). A rename's
     * own batches ({@link #runNow}) put each marker after what is below it instead. Called with
     * {@link #lock} held.
     */
    private boolean markerWaits(PendingOp op) {
        return op.kind() == PendingOp.Kind.DELETE && op.key().endsWith("/") && steps.touchesBelow(op.key());
    }

    /** Called with {@link #lock} held. */
    private boolean uploadMayRun(PendingOp op) {
        if (steps.touches(op.key())) {
            return false;
        }
        for (String prefix : paused.keySet()) {
            if (op.key().startsWith(prefix)) {
                return false;
            }
        }
        return true;
    }

    private void failed(PendingOp op, Throwable t) {
        int attempts = op.attempts() + 1;
        long backoff = backoffMs(attempts);
        String message = t.getMessage() == null ? t.toString() : t.getMessage();
        LOG.warn("{} of {} failed (attempt {}), retrying in {} s: {}", op.kind(), op.key(), attempts,
                backoff / 1000, message);
        LOG.debug("failure", t);
        remember(recentErrors, op.kind() + " " + op.key() + ": " + message);
        drive.journal.retryLater(op.id(), Instant.ofEpochMilli(drive.now() + backoff), message);
    }

    /** How long to wait before try {@code attempts} + 1: doubling from 2 s to 5 min, a fifth of jitter on top. */
    static long backoffMs(int attempts) {
        long backoff = Math.min(MAX_BACKOFF_MS, 1000L << Math.min(Math.max(attempts, 1), 12));
        return backoff + ThreadLocalRandom.current().nextLong(backoff / 5 + 1);
    }

    private static void remember(Deque<String> list, String item) {
        synchronized (list) {
            list.addLast(item);
            while (list.size() > MAX_RECENT) {
                list.removeFirst();
            }
        }
    }

    // ---------------------------------------------------------------- steps

    /** Runs a claimed COPY step; false when it failed (it is then retried later). */
    private boolean runCopy(PendingOp op) {
        try {
            copy(op);
            return true;
        } catch (RuntimeException e) {
            failed(op, e);
            return false;
        } finally {
            inFlight.remove(op.id());
        }
    }

    /** Runs a rename's DELETE steps; true when all of them are done. */
    private boolean deleteBatch(List<PendingOp> ops) {
        List<PendingOp> claimed = new ArrayList<>();
        for (PendingOp op : ops) {
            if (!claim(op)) {
                break;
            }
            claimed.add(op);
        }
        if (claimed.isEmpty()) {
            return false; // the scheduler has taken the first one: the rest waits for it
        }
        return sendDeletes(claimed) && claimed.size() == ops.size();
    }

    /**
     * Sends claimed DELETE steps, one DELETE for one and a DeleteObjects for several, and records
     * those done in one commit; false when any failed (it is then retried later).
     */
    private boolean sendDeletes(List<PendingOp> claimed) {
        try {
            // An unlink's or rmdir's step is not synced when it is appended. Synced here, the removal of
            // the name is on stable storage before the object goes: a power cut may bring a deleted
            // name back with its object, never leave a name whose object is gone.
            drive.journal.sync();
            Map<String, StoreException> failures = claimed.size() == 1 || deleteObjectsRefused
                    ? deleteOneByOne(claimed) : deleteAll(claimed);
            completeSteps(claimed.stream().filter(op -> !failures.containsKey(op.key())).toList());
            for (PendingOp op : claimed) {
                StoreException f = failures.get(op.key());
                if (f != null) {
                    failed(op, f);
                }
            }
            return failures.isEmpty();
        } catch (RuntimeException e) {
            for (PendingOp op : claimed) {
                failed(op, e);
            }
            return false;
        } finally {
            claimed.forEach(op -> inFlight.remove(op.id()));
        }
    }

    private void copy(PendingOp op) {
        String newEtag;
        try {
            newEtag = copyObject(op.key(), op.target(), CopyOptions.KEEP_METADATA);
        } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.NOT_FOUND) {
                throw e;
            }
            LOG.warn("rename: {} is gone from the bucket; nothing to copy to {}", op.key(), op.target());
            completeStep(op);
            return;
        }
        drive.locked(() -> {
            Optional<Entry> t = drive.index.lookup(drive.pathOf(op.target()));
            if (t.isEmpty() || t.get().type() == Entry.Type.DIRECTORY || op.baseEtag() == null) {
                return null;
            }
            Entry e = t.get();
            if (op.baseEtag().equals(e.etag())) {
                // The node first, then its chunks: a reader that misses a relabelled chunk finds the
                // node moved on and reads again (see Drive#readChunk).
                Node n = drive.openNode(e.id());
                if (n != null) {
                    synchronized (n) {
                        if (op.baseEtag().equals(n.etag)) {
                            n.etag = newEtag;
                        }
                    }
                }
                chunks.markUploaded(e.id(), op.baseEtag(), newEtag, Map.of());
                drive.index.upsert(e.withRemote(newEtag, e.remoteSize())); // a copy: same bytes
            }
            // A pending upload replaces the copy now (a copy's ETag need not be the source's).
            drive.journal.uploadOf(e.id()).filter(u -> op.baseEtag().equals(u.baseEtag()))
                    .ifPresent(u -> drive.journal.rebase(e.id(), newEtag));
            return null;
        });
        completeStep(op);
    }

    /**
     * A server-side copy; {@code options} say whether the metadata is kept or replaced and on which
     * version of the source. CopyObject takes sources up to 5 GiB; a server that refuses one as too big
     * gets a multipart copy instead (UploadPartCopy of ranges of the source). A copy onto the source
     * itself (new attributes) completes only over the version it copied.
     */
    private String copyObject(String from, String to, CopyOptions options) {
        try {
            return store.copy(from, to, options);
        } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.INVALID_REQUEST) {
                throw e;
            }
            LOG.debug("copy of {} refused ({}); copying it in parts", from, e.getMessage());
        }
        ObjectInfo source = store.head(from);
        if (options.sourceIfMatch() != null && !options.sourceIfMatch().equals(source.etag())) {
            throw StoreException.preconditionFailed(from);
        }
        boolean keep = options.replaceMetadata() == null;
        MultipartUpload upload = store.createMultipart(to, new PutOptions(
                keep ? source.contentType() : options.contentType(),
                keep ? source.metadata() : options.replaceMetadata(), WriteCondition.NONE));
        try {
            long partSize = Math.max(COPY_PART_SIZE,
                    (source.size() + ObjectStore.MAX_PARTS - 1) / ObjectStore.MAX_PARTS);
            List<CompletedPart> parts = new ArrayList<>();
            int number = 1;
            for (long start = 0; start < source.size(); start += partSize, number++) {
                long length = Math.min(partSize, source.size() - start);
                parts.add(store.uploadPartCopy(upload, number, from, source.etag(), start, length));
            }
            if (!from.equals(to)) {
                return store.completeMultipart(upload, parts, WriteCondition.NONE);
            }
            checkTarget(to, source.etag()); // for servers that ignore the completion's condition
            return store.completeMultipart(upload, parts, WriteCondition.ifMatch(source.etag()));
        } catch (RuntimeException e) {
            abortQuietly(upload, to);
            throw e;
        }
    }

    private Map<String, StoreException> deleteAll(List<PendingOp> ops) {
        try {
            return store.deleteAll(ops.stream().map(PendingOp::key).toList());
        } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.NOT_IMPLEMENTED) {
                throw e;
            }
            LOG.info("the server does not take DeleteObjects; deleting one key a request: {}", e.getMessage());
            deleteObjectsRefused = true;
            return deleteOneByOne(ops);
        }
    }

    /** The first failure ends it: the rest are failed with it, as a failing server fails them too. */
    private Map<String, StoreException> deleteOneByOne(List<PendingOp> ops) {
        Map<String, StoreException> failures = new HashMap<>();
        StoreException failure = null;
        for (PendingOp op : ops) {
            if (failure == null) {
                try {
                    store.delete(op.key());
                } catch (StoreException e) {
                    failure = e;
                }
            }
            if (failure != null) {
                failures.put(op.key(), failure);
            }
        }
        return failures;
    }

    private void completeStep(PendingOp op) {
        completeSteps(List.of(op));
    }

    private void completeSteps(List<PendingOp> done) {
        if (done.isEmpty()) {
            return;
        }
        drive.transactions.inOne(() -> {
            done.forEach(op -> drive.journal.complete(op.id(), op.sequence()));
            return null;
        });
        lock.lock();
        try {
            done.forEach(op -> steps.remove(op.id()));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- uploads

    private void upload(PendingOp listed) {
        // The entry as it is now: the one listed as due may have been completed and rescheduled since,
        // with another sequence and base version, or put off by the attempt that ran while this one
        // waited in the list (it then waits for its new time: a file held open was put off twice).
        PendingOp op = drive.journal.uploadOf(listed.fileId()).filter(o -> o.id() == listed.id()).orElse(null);
        if (op == null || op.due().isAfter(Instant.ofEpochMilli(drive.now())) && !urgent.contains(op.fileId())) {
            return;
        }
        CutWatch watch = new CutWatch();
        Map<Integer, Long> gens;
        Optional<Entry> found;
        synchronized (cutWatches) { // no truncation drops chunks meanwhile (see cutting)
            // Generations first: a write after this point shows as a changed generation at the end.
            gens = chunks.dirtyChunks(op.fileId());
            found = drive.index.byId(op.fileId());
            cutWatches.put(op.fileId(), watch);
        }
        try {
            uploadTaken(op, gens, found);
        } finally {
            synchronized (cutWatches) {
                cutWatches.remove(op.fileId(), watch);
            }
        }
    }

    /** Uploads the file as taken: {@code gens}, the generations of its dirty chunks, read with its entry {@code found}. */
    private void uploadTaken(PendingOp op, Map<Integer, Long> gens, Optional<Entry> found) {
        if (found.isEmpty()) {
            finish(op, null, null); // deleted or replaced before it uploaded
            return;
        }
        Entry e = found.get();
        String key = e.type() == Entry.Type.DIRECTORY ? drive.dirKey(e.path()) : drive.key(e.path());
        if (!key.equals(op.key()) && (hasPendingStep(key) || paused.keySet().stream().anyMatch(key::startsWith))) {
            drive.journal.postpone(op.id(), Instant.ofEpochMilli(drive.now() + 500)); // until the rename's steps ran
            return;
        }
        if (deferWhileOpen(op)) {
            return;
        }
        UploadClaim own = new UploadClaim(e.id());
        boolean ownKey = uploadingKeys.putIfAbsent(key, own) == null;
        try {
            Map<String, String> meta = PosixMetadata.write(new PosixAttributes(e.mode(), e.uid(), e.gid(), e.mtimeMillis()));
            if (e.type() == Entry.Type.DIRECTORY) {
                String etag = store.put(key, Body.of(new byte[0]), new PutOptions(null, meta, WriteCondition.NONE));
                finish(op, etag, () -> {
                    drive.index.byId(e.id()).ifPresent(cur -> drive.index.upsert(cur.withRemote(etag, 0)));
                });
                return;
            }
            String source = e.remoteVersion();
            String etag;
            try {
                etag = send(e, key, op.baseEtag(), key, source, gens, meta);
            } catch (StoreException ex) {
                if (ex.kind() == StoreException.Kind.PRECONDITION_FAILED) {
                    LOG.debug("upload of {} refused: {}", key, ex.getMessage());
                    conflict(op, e, key, source, gens, meta);
                    return;
                }
                throw ex;
            }
            uploaded(op, e, source, etag, gens);
            // Its chunks are clean now: a file bigger than the cache leaves it over its size until evicted.
            chunks.evict();
        } finally {
            if (ownKey) {
                uploadingKeys.remove(key, own);
            }
        }
    }

    /**
     * A file open for writing, or with changes not yet persisted, waits for its close (or an fsync):
     * only then do its size in the index and its chunks agree.
     */
    private boolean deferWhileOpen(PendingOp op) {
        Node n = drive.openNode(op.fileId());
        if (n == null) {
            return false;
        }
        return drive.locked(() -> {
            synchronized (n) {
                if ((n.writers == 0 && !n.changed) || n.syncWanted) {
                    return false;
                }
                n.uploadDeferred = true;
            }
            Optional<PendingOp> now = drive.journal.uploadOf(op.fileId());
            if (now.isPresent() && now.get().sequence() == op.sequence()) {
                drive.journal.postpone(op.id(), Instant.ofEpochMilli(drive.now()).plus(Drive.HELD_OPEN));
            }
            return true;
        });
    }

    /** An upload's hold on the key it writes (identity matters, not the file id alone). */
    private static final class UploadClaim {
        final long fileId;

        UploadClaim(long fileId) {
            this.fileId = fileId;
        }
    }

    /** How much of its file the content an upload took still is: the file's size then, or less after a cut. */
    private static final class CutWatch {
        long keptBelow = Long.MAX_VALUE; // guarded by cutWatches
    }

    /**
     * A truncation cuts a file to {@code size}: marks the uploads of it under way, which took its
     * content before, then runs {@code cut} (which drops the chunks past {@code size}) under the same
     * monitor, so that no upload takes the content between the two. The version such an upload makes
     * is the file's own only below {@code size}: the file reads zeros past it, or its own later bytes,
     * never the bytes the upload carried there. (Had the file a version before, the cut made it local
     * and the upload finds that; a file's first upload leaves nothing else to tell.)
     */
    void cutting(long fileId, long size, Runnable cut) {
        synchronized (cutWatches) {
            CutWatch watch = cutWatches.get(fileId);
            if (watch != null) {
                watch.keptBelow = Math.min(watch.keptBelow, size);
            }
            cut.run();
        }
    }

    /** How many bytes of the version an upload of {@code e} makes are still the file's. */
    private long stillTheFiles(Entry e) {
        synchronized (cutWatches) {
            CutWatch watch = cutWatches.get(e.id());
            return watch == null ? e.size() : Math.min(e.size(), watch.keptBelow);
        }
    }

    /** The content changed while it was being read: try again shortly (not a failure). */
    private static final class ChangedWhileReading extends RuntimeException {
        ChangedWhileReading() {
            super("the file changed while it was being uploaded", null, false, false);
        }
    }

    /**
     * Sends the file's content to {@code key} on condition {@code base}; bytes not in the cache come
     * from {@code readKey} at version {@code source}. Returns the new ETag.
     */
    private String send(Entry e, String key, String base, String readKey, String source, Map<Integer, Long> gens,
                        Map<String, String> meta) {
        WriteCondition condition = base == null ? WriteCondition.IF_ABSENT : WriteCondition.ifMatch(base);
        String contentType = contentType(e);
        PutOptions options = new PutOptions(contentType, meta, condition);
        long size = e.size();
        if (gens.isEmpty() && base != null && base.equals(source) && key.equals(readKey)) {
            ObjectInfo remote = store.head(key);
            if (!remote.etag().equals(base)) {
                throw StoreException.preconditionFailed(key);
            }
            if (remote.size() == size) {
                // Only attributes changed: copy the object onto itself with the new metadata.
                return copyObject(key, key, new CopyOptions(base, meta, contentType));
            }
        }
        if (size <= Drive.SINGLE_PUT_LIMIT) {
            streams.discard(e.id());
            int kib = (int) Math.max(1, (size + 1023) / 1024);
            putBodyBudget.acquireUninterruptibly(kib); // an interrupt (unmount) stays set and stops the PUT
            try {
                return put(e, key, readKey, source, gens, options);
            } finally {
                putBodyBudget.release(kib);
            }
        }
        return sendMultipart(e, key, base, readKey, source, gens, options);
    }

    /** Sends a file of up to {@link Drive#SINGLE_PUT_LIMIT} in one PUT; the caller holds its body's share of the budget. */
    private String put(Entry e, String key, String readKey, String source, Map<Integer, Long> gens, PutOptions options) {
        byte[] data = drive.content(e.id(), readKey, source, e.remoteSize(), 0, (int) e.size());
        if (!chunks.dirtyChunks(e.id()).equals(gens)) {
            throw new ChangedWhileReading();
        }
        try {
            return store.put(key, Body.of(data), options);
        } catch (StoreException ex) {
            if (ex.kind() == StoreException.Kind.PRECONDITION_FAILED) {
                String ours = alreadyThere(key, data);
                if (ours != null) {
                    return ours;
                }
            }
            throw ex;
        }
    }

    private String sendMultipart(Entry e, String key, String base, String readKey, String source,
                                 Map<Integer, Long> gens, PutOptions options) {
        long size = e.size();
        long partSize = partSize(size);
        long remoteSize = checkTarget(key, base);
        if (!key.equals(readKey) || base == null || !base.equals(source)) {
            remoteSize = -1; // nothing at the target can be reused
        }
        remoteSize = Math.min(remoteSize, e.remoteSize()); // bytes past it are no longer the file's
        PartStreams.Stream stream = streams.take(e.id(), key, base, partSize);
        MultipartUpload upload = stream != null ? stream.upload
                : store.createMultipart(key, options.withCondition(WriteCondition.NONE));
        try {
            AtomicBoolean copyRefused = new AtomicBoolean();
            List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
            int reused = 0;
            int number = 1;
            for (long start = 0; start < size; start += partSize, number++) {
                int length = (int) Math.min(partSize, size - start);
                PartStreams.SentPart streamed = stream == null ? null : stream.sent.get(number);
                if (streamed != null && streamed.length() == length
                        && streamed.generations().entrySet().stream().allMatch(g -> g.getValue().equals(gens.get(g.getKey())))) {
                    parts.add(CompletableFuture.completedFuture(streamed.part()));
                    reused++;
                    continue;
                }
                boolean copyable = start + length <= remoteSize && !dirtyIn(gens, start, length);
                long from = start;
                int n = number;
                parts.add(CompletableFuture.supplyAsync(() -> {
                    if (copyable && !copyRefused.get()) {
                        try {
                            return store.uploadPartCopy(upload, n, key, base, from, length);
                        } catch (StoreException ex) {
                            if (ex.kind() != StoreException.Kind.NOT_IMPLEMENTED) {
                                throw ex;
                            }
                            copyRefused.set(true);
                        }
                    }
                    byte[] data = partBuffers.take(length);
                    try {
                        drive.content(e.id(), readKey, source, e.remoteSize(), from, data, length);
                        return store.uploadPart(upload, n, Body.of(data));
                    } finally {
                        partBuffers.give(data);
                    }
                }, partSenders));
            }
            List<CompletedPart> done = new ArrayList<>(parts.size());
            for (CompletableFuture<CompletedPart> part : parts) {
                done.add(joinPart(part, parts));
            }
            if (!chunks.dirtyChunks(e.id()).equals(gens)) {
                throw new ChangedWhileReading();
            }
            // Some servers (S3Proxy 3.3.0) ignore the condition on completion: check just before it.
            checkTarget(key, base);
            String etag = store.completeMultipart(upload, done,
                    base == null ? WriteCondition.IF_ABSENT : WriteCondition.ifMatch(base));
            LOG.debug("completed {} in {} parts, {} of them sent while it was written", key, done.size(), reused);
            if (stream != null && !stream.metadata.equals(options.metadata())) {
                // Created with the attributes the file had when it began to stream (its mtime has moved
                // since). A refused condition means another writer replaced it: a conflict, as for any upload.
                try {
                    etag = copyObject(key, key, new CopyOptions(etag, options.metadata(), options.contentType()));
                } catch (StoreException ex) {
                    if (ex.kind() == StoreException.Kind.PRECONDITION_FAILED) {
                        throw ex;
                    }
                    LOG.warn("{} is in the bucket, but its attributes are those from when it began to upload: {}",
                            key, ex.getMessage());
                }
            }
            return etag;
        } catch (RuntimeException ex) {
            abortQuietly(upload, key);
            throw ex;
        }
    }

    /** One part's result; a failure cancels the parts not started yet and is rethrown as it was. */
    private static CompletedPart joinPart(CompletableFuture<CompletedPart> part, List<CompletableFuture<CompletedPart>> all) {
        try {
            return part.join();
        } catch (CompletionException ex) {
            all.forEach(p -> p.cancel(false));
            if (ex.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw ex;
        } catch (CancellationException ex) {
            all.forEach(p -> p.cancel(false));
            throw ex;
        }
    }

    /** Aborts a failed multipart upload; its own failure only leaves parts the bucket's lifecycle removes. */
    private void abortQuietly(MultipartUpload upload, String key) {
        try {
            store.abortMultipart(upload);
        } catch (RuntimeException abortFailure) {
            LOG.debug("abort of a multipart upload to {} failed: {}", key, abortFailure.toString());
        }
    }

    /**
     * After a failed condition: whether the object already holds exactly these bytes — an earlier
     * attempt of this very PUT that succeeded on the server although the client saw it fail and
     * retried. Returns its ETag then (a plain PUT's ETag is the MD5 of the content), else null.
     */
    private String alreadyThere(String key, byte[] data) {
        try {
            ObjectInfo remote = store.head(key);
            String md5 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(data));
            return remote.size() == data.length && remote.etag().replace("\"", "").equalsIgnoreCase(md5)
                    ? remote.etag() : null;
        } catch (StoreException | java.security.NoSuchAlgorithmException e) {
            return null;
        }
    }

    /** Fails with PRECONDITION_FAILED unless the target is at {@code base} (absent for null); returns its size. */
    private long checkTarget(String key, String base) {
        try {
            ObjectInfo remote = store.head(key);
            if (base == null || !remote.etag().equals(base)) {
                throw StoreException.preconditionFailed(key);
            }
            return remote.size();
        } catch (StoreException ex) {
            if (ex.kind() == StoreException.Kind.NOT_FOUND && base == null) {
                return -1;
            }
            if (ex.kind() == StoreException.Kind.NOT_FOUND) {
                throw StoreException.preconditionFailed(key);
            }
            throw ex;
        }
    }

    private boolean dirtyIn(Map<Integer, Long> gens, long start, int length) {
        int first = (int) (start / drive.chunkSize);
        int last = (int) ((start + length - 1) / drive.chunkSize);
        for (int idx = first; idx <= last; idx++) {
            if (gens.containsKey(idx)) {
                return true;
            }
        }
        return false;
    }

    private static String contentType(Entry e) {
        return contentType(e.name(), e.type());
    }

    private static String contentType(String name, Entry.Type type) {
        if (type == Entry.Type.SYMLINK) {
            return "application/octet-stream";
        }
        String guessed = URLConnection.getFileNameMap().getContentTypeFor(name);
        return guessed == null ? "application/octet-stream" : guessed;
    }

    private void uploaded(PendingOp op, Entry e, String source, String newEtag, Map<Integer, Long> gens) {
        try {
            finish(op, newEtag, () -> {
                becameVersion(e, source, newEtag, gens, null);
                drive.confirmed(e.id());
            });
        } catch (RuntimeException ex) {
            landedUnrecorded.put(e.id(), new Landed(newEtag, Map.copyOf(gens)));
            throw ex;
        }
        landedUnrecorded.remove(e.id());
        LOG.debug("uploaded /{} ({} bytes)", e.path(), e.size());
        if (op.attempts() > 0) {
            LOG.info("uploaded /{} after {} failed attempts", e.path(), op.attempts());
        }
    }

    /**
     * The file's content as uploaded (chunks of generations {@code gens}) is now version {@code newEtag}
     * in the bucket: the open node first (when it still reads {@code source}), then its chunks, then its
     * entry. In that order: a reader that misses a relabelled chunk finds the node moved on and reads
     * again (see Drive#readChunk). Runs under the namespace lock; {@code newPath}: the node's new path,
     * or null.
     *
     * <p>A file that stopped reading {@code source} while the upload ran because a truncation made
     * all its bytes local (its etag is null now: the open node's, or, with none open, the entry's)
     * keeps its chunks dirty: they are its only copy, and its next upload sends them. Its entry learns
     * the new version only while it still names {@code source} (the truncation not persisted yet):
     * a file cut and grown again must read zeros past the cut, not the bytes the upload carried. A
     * file whose first upload this is had no version to stop reading: a cut since the upload took its
     * content bounds what the file may fetch of the new version instead ({@link #cutting}).
     */
    private void becameVersion(Entry e, String source, String newEtag, Map<Integer, Long> gens, String newPath) {
        recordVersion(e, source, newEtag, gens, newPath, true);
    }

    /**
     * The file, none of whose bytes this mount changed, is now at version {@code etag} in the bucket,
     * which may hold other bytes than {@code source}: chunks cached at {@code etag} stay, the other clean
     * ones go. Otherwise as {@link #becameVersion}, whose order and care for a file that went local it
     * keeps; under the namespace lock.
     */
    private void tookVersion(Entry e, String source, String etag) {
        recordVersion(e, source, etag, Map.of(), null, false);
    }

    /** {@code sourceBytesSent}: the new version holds {@code source}'s bytes where no chunk was sent. */
    private void recordVersion(Entry e, String source, String newEtag, Map<Integer, Long> gens, String newPath,
                               boolean sourceBytesSent) {
        Node n = drive.openNode(e.id());
        Optional<Entry> current = drive.index.byId(e.id());
        long kept = stillTheFiles(e);
        boolean wentLocal = false;
        if (n != null) {
            synchronized (n) {
                if (newPath != null) {
                    n.path = newPath;
                }
                if (Objects.equals(n.etag, source)) {
                    n.etag = newEtag;
                    n.remoteLimit = kept;
                } else {
                    wentLocal = n.etag == null;
                }
            }
        } else {
            wentLocal = source != null && current.isPresent() && current.get().remoteVersion() == null;
        }
        if (!wentLocal) {
            chunks.markUploaded(e.id(), sourceBytesSent ? source : null, newEtag, gens);
        }
        if (current.isPresent() && (!wentLocal || Objects.equals(current.get().remoteVersion(), source))) {
            drive.index.upsert(current.get().withRemote(newEtag, kept));
        }
    }

    /** Completes an upload; a newer change queued meanwhile keeps its entry, now based on the new version. */
    private void finish(PendingOp op, String newVersion, Runnable stateChange) {
        streams.discard(op.fileId()); // one the upload did not take is of no use any more
        drive.locked(() -> {
            if (stateChange != null) {
                stateChange.run();
            }
            // Before anyone waiting learns that it ended: a listing after an fsync must not take
            // this upload for one still in flight (it would add no file, see Drive#merge).
            uploadingKeys.values().removeIf(c -> c.fileId == op.fileId());
            if (drive.journal.complete(op.id(), op.sequence())) {
                pendingUploads.remove(op.fileId(), op.id());
            } else if (newVersion != null && drive.index.byId(op.fileId()).isPresent()) {
                drive.journal.rebase(op.fileId(), newVersion);
            }
            uploadedSequence.put(op.fileId(), op.sequence());
            urgent.remove(op.fileId());
            return null;
        });
        wake();
    }

    /**
     * The file as its conflict copy can be sent. Bytes this mount neither changed nor cached come from
     * the version it started from, which the other writer has just replaced: they are fetched if that
     * version can still be read, and are otherwise gone from the bucket. The copy then has zeros there
     * (its entry says the remote version holds nothing), and the status and the log say which bytes.
     */
    private Entry withoutLostBytes(Entry e, String key, String source, Map<Integer, Long> gens) {
        long known = Math.min(e.remoteSize(), e.size());
        if (source == null || known <= 0) {
            return e;
        }
        int cs = drive.chunkSize;
        long lost = 0;
        for (int idx = 0; (long) idx * cs < known; idx++) {
            if (gens.containsKey(idx) || chunks.read(new ChunkKey(e.id(), idx), source, 0, NOTHING) >= 0) {
                continue;
            }
            try {
                drive.content(e.id(), key, source, e.remoteSize(), (long) idx * cs, 1); // caches the chunk
            } catch (StoreException ex) {
                if (ex.kind() != StoreException.Kind.PRECONDITION_FAILED && ex.kind() != StoreException.Kind.NOT_FOUND) {
                    throw ex;
                }
                lost += Math.min(cs, known - (long) idx * cs);
            }
        }
        if (lost == 0) {
            return e;
        }
        String message = "conflict copy of /" + e.path() + ": " + lost + " unchanged bytes of the version this mount"
                + " started from were replaced in the bucket before they were cached here; the copy has zeros there";
        remember(recentErrors, message);
        LOG.error(message);
        return e.withRemote(e.etag(), 0);
    }

    /**
     * Another writer changed the object since this mount saw it. The remote version keeps the name;
     * the local content is uploaded as a conflict copy next to it and the open file (if any) follows it.
     */
    private void conflict(PendingOp op, Entry e, String key, String source, Map<Integer, Long> gens,
                          Map<String, String> meta) {
        ObjectInfo remote;
        try {
            remote = store.head(key);
        } catch (StoreException ex) {
            if (ex.kind() == StoreException.Kind.NOT_FOUND) {
                // Deleted remotely while changed here: the local change recreates it.
                drive.journal.rebase(e.id(), null);
                drive.journal.retryLater(op.id(), Instant.ofEpochMilli(drive.now()), "recreating a deleted object");
                return;
            }
            throw ex;
        }
        Landed landed = landedUnrecorded.remove(e.id()); // of no use past this retry
        if (landed != null && landed.etag().equals(remote.etag()) && landed.gens().equals(gens)) {
            // The version there is the one this mount's last attempt made from these very chunks;
            // only recording it failed. Recorded now, no conflict copy.
            LOG.info("/{} in the bucket is this mount's upload whose recording failed; recording it", e.path());
            uploaded(op, e, source, remote.etag(), gens);
            return;
        }
        if (gens.isEmpty() && remote.size() == e.size() && remote.metadata().equals(meta)) {
            // This mount changed no byte, and the version there has the attributes it was to send:
            // nothing of this mount's is missing from it. So it is taken as the file's version, no
            // conflict copy. Typically the upload had gone through and only recording it here failed.
            LOG.info("/{} in the bucket already holds this mount's change; taking its version", e.path());
            finish(op, remote.etag(), () -> tookVersion(e, source, remote.etag()));
            return;
        }
        Entry local = withoutLostBytes(e, key, source, gens);
        String parent = e.parent();
        String conflictPath = null;
        String conflictEtag = null;
        for (int attempt = 1; conflictEtag == null && attempt <= 20; attempt++) {
            String name = ConflictNames.of(e.name(), drive.options.hostName(), Instant.ofEpochMilli(drive.now()),
                    ZoneId.systemDefault(), attempt);
            conflictPath = Drive.join(parent, name);
            if (drive.index.lookup(conflictPath).isPresent()) {
                continue;
            }
            try {
                conflictEtag = send(local, drive.key(conflictPath), null, key, source, gens, meta);
            } catch (StoreException ex) {
                if (ex.kind() != StoreException.Kind.PRECONDITION_FAILED) {
                    throw ex;
                }
            }
        }
        if (conflictEtag == null) {
            throw new IllegalStateException("no free name for a conflict copy of /" + e.path());
        }
        String copyPath = conflictPath;
        String copyEtag = conflictEtag;
        PosixAttributes a = PosixMetadata.read(remote.metadata(), PosixMetadata.Kind.FILE, remote.lastModified(),
                drive.options.defaults());
        // Recorded before the journal entry completes: a drain that returns then shows it in the status.
        remember(conflicts, "/" + copyPath);
        LOG.warn("conflict: /{} changed in the bucket while it was changed here; the local version is kept as /{}",
                e.path(), copyPath);
        finish(op, copyEtag, () -> {
            drive.index.rename(e.path(), copyPath);
            drive.changedIn(e.parent(), false);
            becameVersion(e, source, copyEtag, gens, copyPath);
            drive.index.upsert(new Entry(0, e.path(), a.isSymlink() ? Entry.Type.SYMLINK : Entry.Type.FILE,
                    remote.size(), a.mtimeMillis(), a.mode(), a.uid(), a.gid(), remote.etag(), 0));
        });
    }
}
