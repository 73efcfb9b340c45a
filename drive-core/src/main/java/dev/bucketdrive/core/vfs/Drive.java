package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.attrs.PosixAttributes;
import dev.bucketdrive.core.attrs.PosixMetadata;
import dev.bucketdrive.core.local.CacheFullException;
import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.ChunkStore;
import dev.bucketdrive.core.local.Entry;
import dev.bucketdrive.core.local.LocalTransactions;
import dev.bucketdrive.core.local.MetadataIndex;
import dev.bucketdrive.core.local.PendingOp;
import dev.bucketdrive.core.local.UploadJournal;
import dev.bucketdrive.core.store.BodyReader;
import dev.bucketdrive.core.store.KeyOrder;
import dev.bucketdrive.core.store.ListPage;
import dev.bucketdrive.core.store.ObjectBytes;
import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.ObjectSummary;
import dev.bucketdrive.core.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The file system a mount serves: names, attributes, open files, reads and writes, over a bucket
 * ({@link ObjectStore}) and a local cache ({@link ChunkStore}, {@link UploadJournal},
 * {@link MetadataIndex}). Paths are as the mount passes them: {@code /} for the root, {@code /a/b}
 * below it, in shown names ({@link DriveOptions#names()}).
 *
 * <p>Writes land in the cache and return; a changed file is persisted to the index and queued in the
 * journal when it is closed, and {@link WriteBack} uploads it after the write-back delay. Missing data
 * comes by ranged GET of whole chunks, one request per chunk however many readers want it.
 *
 * <p>Lock order: the lock of {@link #refreshes} (a batch of revalidations being stored), then
 * {@link #namespace} (structural changes: create, mkdir, unlink, rmdir, rename,
 * symlink, merging a listing), then a {@link Node}'s monitor, then the write-back's watch of cuts
 * ({@link WriteBack#cutting}), then the cache's own locks (chunk stripe, then its database). A
 * transaction of {@link #transactions} holds the database lock while it runs: it is entered under
 * {@link #namespace} with what it needs already read from the node, and takes no monitor inside.
 * Network I/O never happens under a node's monitor; under {@link #namespace} only the listing a
 * directory rename needs.
 */
public final class Drive implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Drive.class);
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** An upload scheduled while its file is still being written waits at most this long for the close. */
    static final Duration HELD_OPEN = Duration.ofDays(1);
    /** Uploads up to this size go in one PUT; bigger ones are multipart. */
    static final long SINGLE_PUT_LIMIT = 16L * 1024 * 1024;
    private static final int MAX_NAME_BYTES = 255;
    /** Files up to this size are read whole when a listing brings them in (see {@link #readAttributes}). */
    static final int SMALL_FILE = 64 * 1024;
    /**
     * Files up to this size (and one chunk) are fetched by an open that must ask the bucket about them
     * (see {@link #revalidate}); each such GET holds its bytes in a new array until they are stored.
     */
    static final int FETCHED_BY_OPEN = 1024 * 1024;
    /** How many files after one opened for reading are fetched ahead (see {@link #fetchAhead}). */
    static final int FILES_FETCHED_AHEAD = 4;

    final ObjectStore store;
    final ChunkStore chunks;
    final UploadJournal journal;
    final MetadataIndex index;
    /** Groups an entry's change with its journal entry: one commit (and one WAL fsync at a close). */
    final LocalTransactions transactions;
    final DriveOptions options;
    final int chunkSize;

    private final ReentrantLock namespace = new ReentrantLock();
    /** The listings in flight, each noting the directories whose names change here meanwhile. */
    private final Set<ListingWatch> listingWatches = ConcurrentHashMap.newKeySet();
    /** Our own writes to the bucket that a listing or HEAD in flight may not show yet. */
    private final RecentWrites recentWrites = new RecentWrites();
    final UnfinishedUploads unfinishedUploads;
    private final ConcurrentHashMap<Long, Node> nodes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** Closes, fsyncs and last releases under way ({@link #closing()}). */
    private final AtomicInteger closing = new AtomicInteger();
    private final ConcurrentHashMap<String, CompletableFuture<Void>> listings = new ConcurrentHashMap<>();
    /** Flat listings of whole subtrees in flight, by the directory at their top (see {@link #listSubtree}). */
    private final ConcurrentHashMap<String, SubtreeListing> subtreeListings = new ConcurrentHashMap<>();
    /** Chunks one read-ahead GET covers (see {@link #readAhead}). */
    static final int READ_AHEAD_GET_CHUNKS = 4;
    /**
     * Bytes of a fetched chunk read from the response at once, on their way into the cache: no buffer
     * of a whole chunk is needed (eight direct ones of 4 MiB took 32 MB of the mount's resident size;
     * docs/BENCHMARKS.md, session 53).
     */
    static final int FETCH_TRANSFER = 128 * 1024;
    /**
     * How fast the read-ahead of a run of reads in order grows (chunks ahead per chunk read), and
     * how many times {@code readAheadChunks} it grows to.
     */
    static final int READ_AHEAD_GROWTH = 4;
    /** Keys one LIST that confirms the files a program goes through covers (see {@link #confirmByListing}). */
    static final int CONFIRM_PAGE = 100;
    /** Directories a program goes through file by file: their next page of confirmations (see {@link #confirmPage}). */
    private final ConcurrentHashMap<String, ConfirmAhead> confirmAhead = new ConcurrentHashMap<>();
    /** Per directory, what {@link #fetchAhead} may fetch: from the listings that brought the files in. */
    private final ConcurrentHashMap<String, FetchableFiles> fetchable = new ConcurrentHashMap<>();
    /** Files whose next attribute read GETs their content, asked by {@link #fetchAhead}. */
    private final Set<Long> contentWanted = ConcurrentHashMap.newKeySet();
    /** Past this many, directories whose revalidation window has passed are forgotten. */
    private static final int REVALIDATED_DIRECTORIES_KEPT = 1024;
    /** Pages (of {@value ObjectStore#MAX_BATCH} keys) one flat listing of a subtree reads at most. */
    static final int SUBTREE_PAGES = 10;
    /** Directories whose subtrees had more keys than one flat listing reads: listed per directory. */
    private final Set<String> subtreesTooBig = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<FetchKey, Fetch> fetches = new ConcurrentHashMap<>();
    /** When each file's version was last confirmed against the bucket (epoch ms). */
    private final ConcurrentHashMap<Long, Long> confirmedAt = new ConcurrentHashMap<>();
    /** When this drive opened: listings taken before are kept from an earlier mount (warm start). */
    private final long openedAt;
    /** Directories where an open lately had to revalidate a file: when it did (epoch ms). */
    private final ConcurrentHashMap<String, Long> revalidatedIn = new ConcurrentHashMap<>();
    private final ExecutorService readAhead;
    final WriteBack writeBack;
    private final RemoteWatcher watcher;
    private final AttributeReader attributeReader;
    /** Stores the attributes (and small files' content) that revalidations fetched, several at a time. */
    private final GroupCommit<Refresh, Entry> refreshes = new GroupCommit<>(this::storeRefreshes);

    /** A read-ahead looks up eight of these per sequential read: equals and hashCode written out, as in ChunkKey. */
    private record FetchKey(long fileId, int index, String etag) {
        @Override
        public boolean equals(Object o) {
            return o instanceof FetchKey k && k.fileId == fileId && k.index == index && Objects.equals(k.etag, etag);
        }

        @Override
        public int hashCode() {
            return (Long.hashCode(fileId) * 31 + index) * 31 + Objects.hashCode(etag);
        }
    }

    /**
     * One GET of one chunk, registered in {@link #fetches} from the moment it is wanted (a read-ahead
     * queues it) so that nobody asks for the chunk again; whoever {@link #claim}s it first runs it.
     * It completes once the chunk is in the cache, where its waiters read it.
     */
    private static final class Fetch extends CompletableFuture<Void> {
        private final AtomicBoolean claimed = new AtomicBoolean();

        boolean claim() {
            return !claimed.getAndSet(true);
        }
    }

    private Drive(ObjectStore store, ChunkStore chunks, UploadJournal journal, MetadataIndex index,
                  LocalTransactions transactions, DriveOptions options) {
        this.unfinishedUploads = new UnfinishedUploads(journal, this::now);
        this.store = recentWrites.recording(unfinishedUploads.recording(store));
        this.chunks = chunks;
        this.journal = journal;
        this.index = index;
        this.transactions = transactions;
        this.options = options;
        this.chunkSize = chunks.chunkSize();
        // As many threads as GETs of the widest window, and then as many again for other readers.
        int readAheadThreads = Math.max(1, 2 * options.readAheadChunks() * READ_AHEAD_GROWTH / READ_AHEAD_GET_CHUNKS);
        this.readAhead = Executors.newFixedThreadPool(readAheadThreads,
                Thread.ofPlatform().name("read-ahead-", 0).daemon().factory());
        this.writeBack = new WriteBack(this);
        this.watcher = new RemoteWatcher(refreshAfter(), this::now, this::refreshIfAging,
                dir -> subdirectoriesMostlyOlderThan(dir, options.listingTtl().toMillis()), this::listSubtree);
        this.attributeReader = new AttributeReader(this::readAttributes, ProcessorLoad::hasRoom);
        this.openedAt = now();
    }

    /** Opens a drive and starts its uploads, resuming whatever the journal holds from an earlier run. */
    public static Drive open(ObjectStore store, ChunkStore chunks, UploadJournal journal, MetadataIndex index,
                             LocalTransactions transactions, DriveOptions options) {
        Drive drive = new Drive(store, chunks, journal, index, transactions, options);
        if (index.lookup("").isEmpty()) {
            PosixMetadata.Defaults d = options.defaults();
            index.upsert(new Entry(0, "", Entry.Type.DIRECTORY, 0, options.clock().millis(),
                    PosixAttributes.S_IFDIR | d.directoryMode(), d.uid(), d.gid(), "", 0));
        }
        drive.writeBack.start();
        return drive;
    }

    public DriveOptions options() {
        return options;
    }

    // ---------------------------------------------------------------- names and attributes

    public FileAttributes getattr(String path) {
        return attributes(withAttributes(entry(resolve(path))));
    }

    public List<DirectoryEntry> readdir(String path) {
        String dir = resolve(path);
        Entry e = entry(dir);
        if (e.type() != Entry.Type.DIRECTORY) {
            throw new FsException(FsError.NOT_A_DIRECTORY, path + " is not a directory");
        }
        ensureListed(dir, true, true, null);
        List<Entry> children = index.children(dir);
        Map<String, Entry> byKey = new LinkedHashMap<>();
        for (Entry c : children) {
            byKey.put(c.name(), c);
        }
        List<DirectoryEntry> out = new ArrayList<>(children.size());
        for (Map.Entry<String, String> shown : shownNames(new ArrayList<>(byKey.keySet())).entrySet()) {
            Entry c = byKey.get(shown.getValue());
            out.add(new DirectoryEntry(shown.getKey(), attributes(c), !attributeReader.isPending(c.id())));
        }
        return out;
    }

    public String readlink(String path) {
        Entry e = entry(resolve(path));
        if (e.type() != Entry.Type.SYMLINK) {
            throw new FsException(FsError.INVALID_ARGUMENT, path + " is not a symbolic link");
        }
        Node node = acquire(e);
        try {
            long size;
            synchronized (node) {
                size = node.size;
            }
            ByteBuffer target = ByteBuffer.allocate((int) Math.min(size, 65536));
            readRange(node, 0, target);
            return new String(target.array(), 0, target.position(), StandardCharsets.UTF_8);
        } finally {
            release(node);
        }
    }

    public VolumeStats statfs() {
        long block = 4096;
        long total = (1L << 50) / block;
        ChunkStore.Usage usage = chunks.usage();
        return new VolumeStats(block, total, total - usage.totalBytes() / block, 1L << 32, MAX_NAME_BYTES);
    }

    // ---------------------------------------------------------------- open files

    /** Opens an existing file; returns the handle. */
    public long open(String path, Set<StandardOpenOption> flags) {
        String p = resolve(path);
        Entry e = entry(p);
        boolean write = flags.contains(StandardOpenOption.WRITE) || flags.contains(StandardOpenOption.APPEND);
        if (e.type() == Entry.Type.DIRECTORY && write) {
            throw new FsException(FsError.IS_A_DIRECTORY, path + " is a directory");
        }
        if (write) {
            checkWritable();
        }
        if (e.type() == Entry.Type.FILE) {
            boolean read = flags.contains(StandardOpenOption.READ) || !write;
            if (read) {
                fetchAhead(e);
            }
            e = revalidate(e, read && !flags.contains(StandardOpenOption.TRUNCATE_EXISTING));
        }
        return openHandle(e, flags);
    }

    /** Creates a file (or opens it, unless {@code CREATE_NEW} is among the flags); returns the handle. */
    public long create(String path, int mode, Set<StandardOpenOption> flags) {
        String p = newName(path, false);
        Node node;
        namespace.lock();
        try {
            Optional<Entry> existing = index.lookup(p);
            if (existing.isPresent() && !flags.contains(StandardOpenOption.CREATE_NEW)) {
                if (existing.get().type() == Entry.Type.DIRECTORY) {
                    throw new FsException(FsError.IS_A_DIRECTORY, path + " is a directory");
                }
                node = acquire(existing.get());
            } else {
                node = createFile(p, path, mode);
            }
        } finally {
            changedIn(Entry.parentOf(p), false);
            namespace.unlock();
        }
        Set<StandardOpenOption> openFlags = new HashSet<>(flags);
        openFlags.add(StandardOpenOption.WRITE);
        return openHandle(node, openFlags);
    }

    /**
     * A new file: its entry and its upload, held until the close, in one transaction (one commit).
     * Its node is made once that committed. If the transaction fails, the write-back forgets the
     * upload it was told of (the journal entry went with the transaction).
     */
    private Node createFile(String p, String shownPath, int mode) {
        requireInsertable(p, shownPath); // checked before: a refusal is no failed transaction
        long[] id = {-1};
        Entry made;
        try {
            made = transactions.inOne(() -> {
                Entry e = index.upsert(newEntry(p, Entry.Type.FILE, PosixAttributes.S_IFREG | (mode & 07777), 0));
                id[0] = e.id();
                writeBack.holdUpload(e.id(), key(p), null, Instant.ofEpochMilli(now()).plus(HELD_OPEN));
                return e;
            });
        } catch (RuntimeException e) {
            if (id[0] >= 0) {
                writeBack.forgetUpload(id[0]);
            }
            throw e;
        }
        writeBack.wrote();
        Node node = acquire(made);
        synchronized (node) {
            node.changed = true; // its upload is held already (above)
            node.contentChanged = true;
        }
        return node;
    }

    private long openHandle(Entry e, Set<StandardOpenOption> flags) {
        return openHandle(acquire(e), flags);
    }

    /** Opens a handle on a node already acquired for it (the handle's release gives it back). */
    private long openHandle(Node node, Set<StandardOpenOption> flags) {
        boolean append = flags.contains(StandardOpenOption.APPEND);
        boolean write = flags.contains(StandardOpenOption.WRITE) || append;
        boolean read = flags.contains(StandardOpenOption.READ) || !write;
        try {
            if (write) {
                synchronized (node) {
                    node.writers++;
                }
            }
            if (write && flags.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
                truncate(node, 0);
            }
        } catch (RuntimeException ex) {
            if (write) {
                synchronized (node) {
                    node.writers--;
                }
            }
            release(node);
            throw ex;
        }
        long fh = nextHandle.getAndIncrement();
        handles.put(fh, new Handle(node, read, write, append));
        return fh;
    }

    public FileAttributes getattr(long fh) {
        Node node = handle(fh).node;
        synchronized (node) {
            return new FileAttributes(node.id, node.mode, node.uid, node.gid, sizeShown(node.type, node.size),
                    node.mtimeMillis, node.type == Entry.Type.DIRECTORY ? 2 : 1);
        }
    }

    public int read(long fh, ByteBuffer dst, long offset) {
        Handle h = handle(fh);
        if (!h.readable) {
            throw new FsException(FsError.BAD_HANDLE, "handle not open for reading");
        }
        Node node = h.node;
        // The kernel may hand two reads over out of their order: a run ends only at a jump of more than a chunk.
        if (offset == 0 || offset < h.runStart || offset > h.lastReadEnd + chunkSize) {
            h.runStart = offset;
        }
        if (h.lastReadEnd == offset || offset == 0) {
            // Before this read's own bytes: when they are missing, the chunks after them travel while
            // they do, so a far bucket's round trip is waited once at the start of a read, not twice.
            long wanted = offset + dst.remaining();
            readAhead(node, wanted, readAheadWindow(wanted - h.runStart));
        }
        int n = readRange(node, offset, dst);
        h.lastReadEnd = offset + n;
        return n;
    }

    public int write(long fh, ByteBuffer src, long offset) {
        Handle h = handle(fh);
        if (!h.writable) {
            throw new FsException(FsError.BAD_HANDLE, "handle not open for writing");
        }
        Node node = h.node;
        if (h.append) {
            synchronized (node) {
                offset = node.size;
            }
        }
        int length = src.remaining();
        if (length == 0) {
            return 0;
        }
        markChanged(node, true);
        long pos = offset;
        int done = 0;
        try {
            while (done < length) {
                int idx = (int) (pos / chunkSize);
                int inChunk = (int) (pos % chunkSize);
                int n = Math.min(chunkSize - inChunk, length - done);
                prepareForWrite(node, idx, inChunk, n);
                ByteBuffer piece = src.slice(src.position() + done, n);
                chunks.write(new ChunkKey(node.id, idx), inChunk, piece);
                done += n;
                pos += n;
            }
        } catch (CacheFullException e) {
            if (done == 0) {
                throw FsException.of("write", e);
            }
        } finally {
            synchronized (node) {
                node.size = Math.max(node.size, offset + done);
                node.mtimeMillis = now();
            }
        }
        writeBack.streams.written(node.id, offset + done, offset);
        src.position(src.position() + done);
        return done;
    }

    /** close(2) of one descriptor: a changed file is made durable in the cache and queued for upload. */
    public void flush(long fh) {
        Handle h = handle(fh);
        if (h.writable) {
            whileClosing(() -> persist(h.node, now() + options.writeBackDelay().toMillis(), false));
        }
    }

    /** A close's work that ends by queueing an upload, counted by {@link #closing()} while it runs. */
    private <T> T whileClosing(Supplier<T> work) {
        closing.incrementAndGet();
        try {
            return work.get();
        } finally {
            closing.decrementAndGet();
        }
    }

    /**
     * Whether a close, fsync or last release is under way: each schedules an upload when it ends
     * (after waiting for the disk, which can take a while), so it may soon make room in the cache.
     */
    boolean closing() {
        return closing.get() > 0;
    }

    /**
     * Returns when the file's content is durable in the bucket (or fails with EIO after the fsync
     * timeout); at once for a file whose name is gone, whose data goes at its last release.
     */
    public void fsync(long fh) {
        Node node = handle(fh).node;
        synchronized (node) {
            node.syncWanted = true;
        }
        try {
            // Null when the name is gone: an upload still in the journal (held while the file is
            // open) finds no file and sends nothing, so there is nothing to wait for.
            PendingOp op = whileClosing(() -> persist(node, now(), true));
            if (op != null && !writeBack.awaitUploaded(node.id, op.sequence(), options.fsyncTimeout())) {
                throw new FsException(FsError.IO, "fsync: the upload of " + node.path
                        + " did not finish in " + options.fsyncTimeout() + "; it stays queued");
            }
        } finally {
            synchronized (node) {
                node.syncWanted = false;
            }
        }
    }

    /**
     * fsync(2) of a directory: the changes of names made so far (unlinks and rmdirs, whose deletes
     * are otherwise synced just before they are sent) survive a power cut once this returns. It does
     * not wait for the bucket.
     */
    public void fsyncDirectory(String path) {
        Entry e = entry(resolve(path));
        if (e.type() != Entry.Type.DIRECTORY) {
            throw new FsException(FsError.NOT_A_DIRECTORY, path + " is not a directory");
        }
        journal.sync();
    }

    public void release(long fh) {
        Handle h = handles.remove(fh);
        if (h == null) {
            throw new FsException(FsError.BAD_HANDLE, "no handle " + fh);
        }
        boolean deferred = false;
        if (h.writable) {
            synchronized (h.node) {
                h.node.writers--;
                if (h.node.writers == 0 && h.node.uploadDeferred) {
                    h.node.uploadDeferred = false;
                    deferred = true;
                }
            }
        }
        if (deferred) {
            Node node = h.node;
            whileClosing(() -> {
                locked(() -> queueUpload(node, Instant.ofEpochMilli(now()).plus(options.writeBackDelay()), true));
                journal.sync();
                return null;
            });
        }
        release(h.node);
    }

    // ---------------------------------------------------------------- changes by path

    /** truncate(2), or ftruncate(2) when {@code fh} is a handle (not -1). */
    public void truncate(String path, long fh, long size) {
        checkWritable();
        if (size < 0) {
            throw new FsException(FsError.INVALID_ARGUMENT, "negative size");
        }
        if (fh >= 0 && handles.containsKey(fh)) {
            truncate(handle(fh).node, size);
            return;
        }
        Entry e = entry(resolve(path));
        if (e.type() == Entry.Type.DIRECTORY) {
            throw new FsException(FsError.IS_A_DIRECTORY, path + " is a directory");
        }
        Node node = acquire(revalidate(e, false));
        try {
            truncate(node, size);
        } finally {
            release(node);
        }
    }

    public void chmod(String path, int mode) {
        changeAttributes(path, n -> n.mode = (n.mode & PosixAttributes.S_IFMT) | (mode & 07777));
    }

    /** Changes owner and group; -1 leaves one as it is. */
    public void chown(String path, int uid, int gid) {
        changeAttributes(path, n -> {
            if (uid != -1) {
                n.uid = uid;
            }
            if (gid != -1) {
                n.gid = gid;
            }
        });
    }

    /** Sets the modification time; {@code null} leaves it. */
    public void utimens(String path, Long mtimeMillis) {
        if (mtimeMillis != null) {
            changeAttributes(path, n -> n.mtimeMillis = mtimeMillis);
        }
    }

    private void changeAttributes(String path, java.util.function.Consumer<Node> change) {
        checkWritable();
        String p = resolve(path);
        if (p.isEmpty()) {
            return; // the root has no object to carry attributes
        }
        Node node = acquire(entry(p));
        try {
            boolean persistedAtRelease;
            synchronized (node) {
                change.accept(node);
                // No other user (no open handle): the release below stores the entry and holds its
                // upload in one transaction, so the upload need not be held first in one of its own.
                persistedAtRelease = node.users == 1 && !node.unlinked;
                if (persistedAtRelease) {
                    node.changed = true;
                }
            }
            if (persistedAtRelease) {
                writeBack.wrote();
            } else {
                markChanged(node, false);
            }
        } finally {
            release(node);
        }
    }

    public void mkdir(String path, int mode) {
        String p = newName(path, true);
        namespace.lock();
        try {
            Entry e = insert(p, path, Entry.Type.DIRECTORY, PosixAttributes.S_IFDIR | (mode & 07777), now());
            writeBack.scheduleUpload(e.id(), dirKey(p), null, Instant.ofEpochMilli(now()));
        } finally {
            changedIn(Entry.parentOf(p), false);
            namespace.unlock();
        }
    }

    public void rmdir(String path) {
        checkWritable();
        String p = resolve(path);
        if (p.isEmpty()) {
            throw new FsException(FsError.INVALID_ARGUMENT, "cannot remove the root");
        }
        Entry e = entry(p);
        if (e.type() != Entry.Type.DIRECTORY) {
            throw new FsException(FsError.NOT_A_DIRECTORY, path + " is not a directory");
        }
        ensureListed(p, true);
        namespace.lock();
        try {
            if (!index.children(p).isEmpty()) {
                throw new FsException(FsError.NOT_EMPTY, path + " is not empty");
            }
            withSteps(steps -> {
                index.remove(p);
                steps.add(writeBack.append(PendingOp.Kind.DELETE, dirKey(p), null, null));
            });
        } finally {
            changedIn(Entry.parentOf(p), false);
            changedIn(p, true);
            namespace.unlock();
        }
        writeBack.deleteJournaled();
    }

    public void unlink(String path) {
        checkWritable();
        String p = resolve(path);
        Entry e = entry(p);
        if (e.type() == Entry.Type.DIRECTORY) {
            throw new FsException(FsError.IS_A_DIRECTORY, path + " is a directory");
        }
        keepReadableWhileOpen(e);
        List<PendingOp> deletes;
        namespace.lock();
        try {
            // Read again under the lock: an upload that finished meanwhile gave the entry an ETag.
            Entry current = index.lookup(p).orElse(e);
            deletes = withSteps(steps -> {
                index.remove(p);
                if (current.etag() != null || writeBack.mayHaveUploaded(current.id())) {
                    steps.add(writeBack.append(PendingOp.Kind.DELETE, key(p), null, null));
                }
            });
            detach(current.id());
        } finally {
            changedIn(Entry.parentOf(p), false);
            namespace.unlock();
        }
        if (deletes.isEmpty()) {
            writeBack.wake();
        } else {
            writeBack.deleteJournaled();
        }
    }

    public void symlink(String target, String path) {
        String p = newName(path, false);
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 4095) {
            throw new FsException(FsError.NAME_TOO_LONG, "symlink target longer than 4095 bytes");
        }
        Node node;
        namespace.lock();
        try {
            node = acquire(insert(p, path, Entry.Type.SYMLINK, PosixAttributes.S_IFLNK | 0777, 0));
        } finally {
            changedIn(Entry.parentOf(p), false);
            namespace.unlock();
        }
        try {
            markChanged(node, true);
            if (bytes.length > 0) {
                writeChunk(new ChunkKey(node.id, 0), 0, ByteBuffer.wrap(bytes));
            }
            synchronized (node) {
                node.size = bytes.length;
            }
        } finally {
            release(node);
        }
    }

    /**
     * rename(2). A file moves by server-side copy and delete (one all of whose bytes are here, with its
     * upload pending, by that upload and a delete); a directory by one copy and one delete per object.
     * The steps and the new names are one transaction, on stable storage when this returns; the steps
     * run at once and are resumed by the write-back after a failure or a crash; the local view shows
     * the new names immediately.
     */
    public void rename(String from, String to, boolean noReplace) {
        checkWritable();
        String src = resolve(from);
        String dst = resolve(to);
        if (src.isEmpty() || dst.isEmpty()) {
            throw new FsException(FsError.INVALID_ARGUMENT, "cannot rename the root");
        }
        if (src.equals(dst)) {
            entry(src);
            return;
        }
        if (dst.startsWith(src + "/")) {
            throw new FsException(FsError.INVALID_ARGUMENT, "cannot move " + from + " into itself");
        }
        Entry first = entry(src);
        // No upload under either name runs meanwhile: what is in the bucket there stays as read.
        boolean directory = first.type() == Entry.Type.DIRECTORY;
        String pausedSource = directory ? dirKey(src) : key(src);
        String pausedTarget = directory ? dirKey(dst) : key(dst);
        writeBack.pause(pausedSource);
        writeBack.pause(pausedTarget);
        try {
            rename(entry(src), dst, to, noReplace);
        } finally {
            writeBack.resume(pausedTarget);
            writeBack.resume(pausedSource);
        }
    }

    private void rename(Entry s, String dst, String to, boolean noReplace) {
        checkName(dst, s.type() == Entry.Type.DIRECTORY);
        Optional<Entry> existing = optionalEntry(dst);
        existing.ifPresent(d -> {
            if (noReplace) {
                throw new FsException(FsError.EXISTS, to + " exists");
            }
            if (d.type() == Entry.Type.DIRECTORY && s.type() != Entry.Type.DIRECTORY) {
                throw new FsException(FsError.IS_A_DIRECTORY, to + " is a directory");
            }
            if (d.type() != Entry.Type.DIRECTORY && s.type() == Entry.Type.DIRECTORY) {
                throw new FsException(FsError.NOT_A_DIRECTORY, to + " is not a directory");
            }
            if (d.type() == Entry.Type.DIRECTORY) {
                ensureListed(dst, true);
                if (!index.children(dst).isEmpty()) {
                    throw new FsException(FsError.NOT_EMPTY, to + " is not empty");
                }
            } else {
                keepReadableWhileOpen(d);
            }
        });
        List<PendingOp> steps;
        if (s.type() == Entry.Type.DIRECTORY) {
            steps = renameDirectory(s, dst, existing.orElse(null));
        } else {
            steps = renameFile(s, dst, existing.orElse(null));
        }
        journal.sync(); // a rename survives a power cut once it returns
        writeBack.runNow(steps);
    }

    private List<PendingOp> renameFile(Entry stale, String dst, Entry replaced) {
        List<PendingOp> steps;
        namespace.lock();
        try {
            // Read both again under the lock: an upload that finished meanwhile gave its entry an ETag.
            Entry s = index.byId(stale.id()).orElse(stale);
            Entry r = replaced == null ? null : index.byId(replaced.id()).orElse(replaced);
            requireDirectory(Entry.parentOf(dst));
            boolean hadUpload = writeBack.hasPendingUpload(s.id());
            try {
                steps = withSteps(appended -> {
                    if (s.etag() != null) {
                        appended.add(writeBack.append(PendingOp.Kind.COPY, key(s.path()), key(dst), s.etag()));
                        appended.add(writeBack.append(PendingOp.Kind.DELETE, key(s.path()), null, null));
                    } else {
                        // All of the file is here; its upload writes it under the new name, in place of what
                        // this mount saw there, and the object it was to replace under the old name goes.
                        String atSource = objectVersion(s);
                        String atTarget = r == null ? null : objectVersion(r);
                        if (atSource != null) {
                            appended.add(writeBack.append(PendingOp.Kind.DELETE, key(s.path()), null, null));
                        }
                        if (atSource != null || atTarget != null) {
                            writeBack.rebase(s.id(), key(dst), atTarget);
                        }
                    }
                    index.rename(s.path(), dst);
                });
            } catch (RuntimeException e) {
                if (!hadUpload) {
                    writeBack.forgetUpload(s.id()); // the upload the rebase scheduled went with the transaction
                }
                throw e;
            }
            if (r != null) {
                detach(r.id());
            }
            moveNodes(s.path(), dst);
        } finally {
            changedIn(stale.parent(), false);
            changedIn(Entry.parentOf(dst), false);
            namespace.unlock();
        }
        return steps;
    }

    /**
     * Moves every object under the directory's key to the new one, as the bucket lists them. The
     * listing must show what the steps already journaled there will leave (a copy into the directory
     * from an earlier rename, still pending, lists nothing yet, and the object it makes would stay
     * under the old name), so it waits for those steps first, and lists again if one was journaled
     * after the listing.
     */
    private List<PendingOp> renameDirectory(Entry s, String dst, Entry replaced) {
        String fromPrefix = dirKey(s.path());
        while (true) {
            if (!writeBack.awaitNoStepUnder(fromPrefix, options.fsyncTimeout())) {
                throw new FsException(FsError.IO, "rename of " + s.path() + ": earlier changes under it did not reach "
                        + "the bucket in " + options.fsyncTimeout());
            }
            List<PendingOp> steps = renameDirectory(s, dst, replaced, fromPrefix, listAll(fromPrefix));
            if (steps != null) {
                return steps;
            }
        }
    }

    /** Null when a step under {@code fromPrefix}, the directory's key, was journaled after {@code objects} were listed. */
    private List<PendingOp> renameDirectory(Entry s, String dst, Entry replaced, String fromPrefix,
                                            List<ObjectSummary> objects) {
        List<PendingOp> steps;
        String toPrefix = dirKey(dst);
        for (ObjectSummary o : objects) {
            if (utf8Length(toPrefix + o.key().substring(fromPrefix.length())) > ObjectStore.MAX_KEY_BYTES) {
                throw new FsException(FsError.NAME_TOO_LONG, "a key below " + dst + " would pass 1024 bytes");
            }
        }
        namespace.lock();
        if (writeBack.hasPendingStepUnder(fromPrefix)) {
            namespace.unlock();
            return null;
        }
        try {
            requireDirectory(Entry.parentOf(dst));
            List<PendingOp> appended = withSteps(added -> {
                if (replaced != null) {
                    added.add(writeBack.append(PendingOp.Kind.DELETE, toPrefix, null, null));
                }
                for (ObjectSummary o : objects) {
                    added.add(writeBack.append(PendingOp.Kind.COPY, o.key(),
                            toPrefix + o.key().substring(fromPrefix.length()), o.etag()));
                }
                // Last key first: each directory's marker after everything below it (see WriteBack.markerWaits).
                for (ObjectSummary o : objects.reversed()) {
                    added.add(writeBack.append(PendingOp.Kind.DELETE, o.key(), null, null));
                }
                index.rename(s.path(), dst);
            });
            // The copies first, then the deletes (the replaced directory's marker first among them).
            steps = new ArrayList<>(appended.stream().filter(op -> op.kind() == PendingOp.Kind.COPY).toList());
            steps.addAll(appended.stream().filter(op -> op.kind() == PendingOp.Kind.DELETE).toList());
            moveNodes(s.path(), dst);
        } finally {
            for (String d : List.of(s.path(), dst)) {
                changedIn(Entry.parentOf(d), false);
                changedIn(d, true);
            }
            namespace.unlock();
        }
        return steps;
    }

    /**
     * Runs changes to the index and the journal as one transaction (one commit, not synced: the
     * caller syncs if it promises more than surviving a crash of the process). The steps they append
     * go in the list they are given, which this returns; if the transaction rolls back, the
     * write-back forgets them.
     */
    private List<PendingOp> withSteps(Consumer<List<PendingOp>> changes) {
        List<PendingOp> steps = new ArrayList<>();
        try {
            transactions.inOne(() -> {
                changes.accept(steps);
                return null;
            });
        } catch (RuntimeException e) {
            writeBack.forgetSteps(steps);
            throw e;
        }
        return steps;
    }

    private void moveNodes(String from, String to) {
        for (Node n : nodes.values()) {
            synchronized (n) {
                if (n.unlinked) {
                    continue;
                }
                if (n.path.equals(from)) {
                    n.path = to;
                } else if (n.path.startsWith(from + "/")) {
                    n.path = to + n.path.substring(from.length());
                }
            }
        }
    }

    /**
     * Runs an action under the namespace lock. One that changes names calls {@link #changedIn}; a
     * change of a file's version need not, as listings skip keys this mount wrote since they began
     * ({@link #ownChangeSince}).
     */
    <T> T locked(Supplier<T> action) {
        namespace.lock();
        try {
            return action.get();
        } finally {
            namespace.unlock();
        }
    }

    // ---------------------------------------------------------------- status and shutdown

    public DriveStatus status() {
        return writeBack.status(chunks.usage());
    }

    /**
     * Waits until nothing is owed to the bucket, up to {@code timeout}; {@code progress} hears the
     * number of pending operations as it falls. Returns how many remain.
     */
    public int drain(Duration timeout, java.util.function.IntConsumer progress) {
        return writeBack.drain(timeout, progress);
    }

    @Override
    public void close() {
        watcher.close();
        attributeReader.close();
        Pools.stop("read-ahead", readAhead);
        writeBack.close();
    }

    // ---------------------------------------------------------------- nodes

    /**
     * The node of an entry, created from the index's current row when it is not in use: an upload
     * that finished since {@code e} was read changed its version, and that happens under
     * {@link #namespace} too.
     */
    Node acquire(Entry e) {
        return locked(() -> nodes.compute(e.id(), (id, n) -> {
            Node node = n == null ? new Node(index.byId(id).orElse(e)) : n;
            node.users++;
            return node;
        }));
    }

    /**
     * Gives a node back. The last user persists its changes (queues the upload) or, for an unlinked
     * node, drops its data. No monitor is held across the persist: its lock order is namespace, then node.
     */
    void release(Node node) {
        boolean looksLast;
        synchronized (node) {
            looksLast = node.users == 1 && node.changed && !node.unlinked;
        }
        if (looksLast) {
            persist(node, now() + options.writeBackDelay().toMillis(), false); // fsync outside the namespace lock
        }
        locked(() -> {
            Node after = nodes.compute(node.id, (id, n) -> {
                node.users--;
                return node.users == 0 ? null : node;
            });
            if (after == null) {
                boolean unlinked;
                boolean changed;
                synchronized (node) {
                    unlinked = node.unlinked;
                    changed = node.changed;
                }
                if (unlinked) {
                    chunks.pin(node.id, false);
                    chunks.drop(node.id);
                } else if (changed) {
                    persist(node, now() + options.writeBackDelay().toMillis(), false);
                }
            }
            return null;
        });
    }

    Node openNode(long fileId) {
        return nodes.get(fileId);
    }

    /**
     * The first change to a node queues an upload held until the close, which records its base version.
     *
     * @param content whether the bytes or the size change (else only attributes: no fsync at the close)
     */
    private void markChanged(Node node, boolean content) {
        writeBack.wrote();
        synchronized (node) {
            node.contentChanged |= content;
            if (node.changed) {
                return;
            }
            node.changed = true;
            if (node.unlinked) {
                return;
            }
        }
        locked(() -> queueUpload(node, Instant.ofEpochMilli(now()).plus(HELD_OPEN), false));
    }

    /**
     * Schedules the node's upload. A new journal entry is conditional on the version the node has now
     * (an upload of an earlier state may have finished a moment ago); an entry still pending keeps
     * its base. Called under {@link #namespace}, which uploads also finish under.
     */
    private PendingOp queueUpload(Node node, Instant due, boolean durable) {
        return queueUpload(uploadOf(node), due, durable);
    }

    /** What an upload of a node is: read under its monitor, before any transaction takes the database. */
    private record Upload(long fileId, String key, String base) {
    }

    private Upload uploadOf(Node node) {
        synchronized (node) {
            return new Upload(node.id, node.type == Entry.Type.DIRECTORY ? dirKey(node.path) : key(node.path), node.etag);
        }
    }

    /**
     * {@code durable}: the upload is scheduled (a close), else held (a file still open). A scheduled one
     * survives a power cut once the journal syncs, which the caller asks for after letting go of the
     * namespace lock: closes of other files need not wait for this one's disk.
     */
    private PendingOp queueUpload(Upload upload, Instant due, boolean durable) {
        String newBase = writeBack.hasPendingUpload(upload.fileId()) ? null : upload.base();
        return durable ? writeBack.scheduleUpload(upload.fileId(), upload.key(), newBase, due, false)
                : writeBack.holdUpload(upload.fileId(), upload.key(), newBase, due);
    }

    /**
     * Makes a node's changes durable: chunks fsync'd, the entry stored and the upload due at
     * {@code dueMillis} in one transaction under the namespace lock, then the index synced outside it
     * (closes of several files wait for the disk together). Returns the journal entry, or null when
     * there was nothing to persist. A change of attributes alone (chmod, chown, touch of a closed
     * file) is stored without waiting for the disk: it survives a crash of the process at once and a
     * power cut from the next durable commit on.
     */
    private PendingOp persist(Node node, long dueMillis, boolean evenIfUnchanged) {
        boolean durable;
        synchronized (node) {
            durable = node.contentChanged || evenIfUnchanged;
            node.contentChanged = false; // before the fsync: a write after it sets it again
        }
        if (durable && (node.type == Entry.Type.FILE || node.type == Entry.Type.SYMLINK)) {
            try {
                chunks.force(node.id);
            } catch (RuntimeException e) {
                synchronized (node) {
                    node.contentChanged = true;
                }
                throw e;
            }
        }
        PendingOp op;
        namespace.lock();
        try {
            synchronized (node) {
                if (node.unlinked || (!node.changed && !evenIfUnchanged)) {
                    return null;
                }
                node.changed = false;
            }
            Optional<Entry> current = index.byId(node.id);
            if (current.isEmpty()) {
                return null;
            }
            Entry stored = node.toEntry(current.get().listedAt());
            Upload upload = uploadOf(node);
            op = transactions.inOne(() -> {
                index.upsert(stored);
                return queueUpload(upload, Instant.ofEpochMilli(dueMillis), durable);
            });
            changedIn(current.get().parent(), false);
        } finally {
            namespace.unlock();
        }
        if (durable) {
            journal.sync();
        }
        return op;
    }

    /**
     * The version of the object under a file's name as this drive last saw it: the version its
     * missing bytes come from, or, for a file all of whose bytes are here, the one its pending upload
     * replaces; null when it knows of none.
     */
    private String objectVersion(Entry e) {
        if (e.remoteVersion() != null) {
            return e.etag();
        }
        return journal.uploadOf(e.id()).map(PendingOp::baseEtag).orElse(null);
    }

    /** The name of an open file went away: its data stays for its handles and goes at the last release. */
    private void detach(long fileId) {
        Node n = nodes.get(fileId);
        if (n != null) {
            synchronized (n) {
                n.unlinked = true;
            }
        } else {
            chunks.drop(fileId);
        }
    }

    /** Before the name of an open file goes: fetch what it lacks, so its handles can read it to the end. */
    private void keepReadableWhileOpen(Entry e) {
        Node n = nodes.get(e.id());
        if (n == null) {
            return;
        }
        chunks.pin(n.id, true);
        long size;
        synchronized (n) {
            size = n.size;
        }
        for (int idx = 0; (long) idx * chunkSize < size; idx++) {
            readChunk(n, idx, 0, ByteBuffer.allocate((int) Math.min(chunkSize, size - (long) idx * chunkSize)));
        }
    }

    private Handle handle(long fh) {
        Handle h = handles.get(fh);
        if (h == null) {
            throw new FsException(FsError.BAD_HANDLE, "no handle " + fh);
        }
        return h;
    }

    // ---------------------------------------------------------------- data

    private void truncate(Node node, long size) {
        markChanged(node, true);
        long old;
        String etag;
        synchronized (node) {
            old = node.size;
            etag = node.etag;
        }
        if (size < old && etag != null) {
            // No byte of the remote version may be fetched any more past the new end, nor after a
            // restart: the part kept becomes local (dirty) and the file no longer reads from the bucket.
            // An upload finishing meanwhile may turn dirty chunks clean, so the switch happens under the
            // namespace lock (which uploads finish under) once every chunk kept is seen dirty there.
            while (!locked(() -> becameLocal(node, size))) {
                Map<Integer, Long> dirty = chunks.dirtyChunks(node.id);
                for (int idx = 0; (long) idx * chunkSize < size; idx++) {
                    if (!dirty.containsKey(idx)) {
                        int len = (int) Math.min(chunkSize, old - (long) idx * chunkSize);
                        ByteBuffer data = ByteBuffer.allocate(len);
                        readChunk(node, idx, 0, data);
                        // readChunk fills the whole buffer without moving its position
                        writeChunk(new ChunkKey(node.id, idx), 0, data);
                    }
                }
            }
        }
        if (size < old) {
            writeBack.cutting(node.id, size, () -> chunks.truncate(node.id, size));
        } else {
            chunks.truncate(node.id, size);
        }
        synchronized (node) {
            node.size = size;
            // An upload that ended since the cut began set the version it made, all of its size.
            node.remoteLimit = Math.min(node.remoteLimit, size);
            node.mtimeMillis = now();
        }
    }

    /** Under the namespace lock: when every chunk below {@code size} is dirty, the node stops reading the bucket. */
    private boolean becameLocal(Node node, long size) {
        Map<Integer, Long> dirty = chunks.dirtyChunks(node.id);
        for (int idx = 0; (long) idx * chunkSize < size; idx++) {
            if (!dirty.containsKey(idx)) {
                return false;
            }
        }
        synchronized (node) {
            node.etag = null;
            node.remoteLimit = 0;
        }
        return true;
    }

    private void writeChunk(ChunkKey key, int offset, ByteBuffer data) {
        try {
            chunks.write(key, offset, data);
        } catch (CacheFullException e) {
            throw FsException.of("write", e);
        }
    }

    /** A write that leaves remote bytes of a chunk in place needs the chunk first. */
    private void prepareForWrite(Node node, int idx, int offset, int length) {
        withCurrentSource(node, source -> prepareForWrite(node, idx, offset, length, source));
    }

    /**
     * Runs a chunk access against the node's current remote source. An upload of this file that
     * finishes meanwhile moves the node and its clean chunks to the new version; a fetch that raced
     * it then fails its If-Match, and the access is simply repeated with the new version. The fetch
     * can also fail after the new version landed in the bucket and before the drive recorded it
     * (the node has not moved yet): while the file's upload, or a rename's copy onto its key, is in
     * flight, the access waits for it and is repeated, up to the fetch timeout. Otherwise another
     * client changed the object, and the access fails.
     */
    private void withCurrentSource(Node node, java.util.function.Consumer<Node.Source> access) {
        int moves = 0;
        long deadline = 0; // set at the first wait: every write passes here, few ever wait
        while (true) {
            Node.Source source = node.source();
            try {
                access.accept(source);
                return;
            } catch (FsException e) {
                if (e.error() != FsError.STALE) {
                    throw e;
                }
                if (!node.source().equals(source)) {
                    if (++moves >= 10) {
                        throw e;
                    }
                    continue;
                }
                if (!writeBack.uploading(node.id) && !writeBack.hasPendingStep(key(node))) {
                    throw e;
                }
                if (deadline == 0) {
                    deadline = System.nanoTime() + options.fetchTimeout().toNanos();
                } else if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private void prepareForWrite(Node node, int idx, int offset, int length, Node.Source source) {
        String etag = source.etag();
        long limit = source.limit();
        ChunkKey key = new ChunkKey(node.id, idx);
        if (chunks.read(key, etag, 0, EMPTY) >= 0) {
            return; // dirty, or clean of the version the file reads
        }
        requireCurrent(node, source);
        long start = (long) idx * chunkSize;
        int remoteBytes = etag == null ? 0 : (int) Math.max(0, Math.min(chunkSize, limit - start));
        if (remoteBytes > 0 && !(offset == 0 && length >= remoteBytes)) {
            fetch(node, idx, etag);
            return;
        }
        if (chunks.length(key) >= 0) {
            // A clean copy of another version: replace it, so the write does not mix versions. Under
            // the namespace lock, which uploads finish under: it must not be the new version's chunk
            // that an upload relabelled a moment ago.
            locked(() -> {
                requireCurrent(node, source);
                if (chunks.read(key, etag, 0, EMPTY) < 0) {
                    chunks.putClean(key, etag == null ? "-" : etag, EMPTY);
                }
                return null;
            });
        }
    }

    /** Reads from {@code offset} into {@code dst} up to the file's end; returns the bytes read. */
    int readRange(Node node, long offset, ByteBuffer dst) {
        long size;
        synchronized (node) {
            size = node.size;
        }
        if (offset >= size || !dst.hasRemaining()) {
            return 0;
        }
        int want = (int) Math.min(dst.remaining(), size - offset);
        int done = 0;
        while (done < want) {
            long pos = offset + done;
            int idx = (int) (pos / chunkSize);
            int inChunk = (int) (pos % chunkSize);
            int n = Math.min(chunkSize - inChunk, want - done);
            readChunk(node, idx, inChunk, dst.slice(dst.position() + done, n));
            done += n;
        }
        dst.position(dst.position() + done);
        return done;
    }

    /** Fills {@code piece} from one chunk: local copy, else the bucket, else zeros (a hole). */
    private void readChunk(Node node, int idx, int offset, ByteBuffer piece) {
        // A chunk in the cache (most reads) without the lambda, which allocates under the quick compiler.
        int got = chunks.read(new ChunkKey(node.id, idx), node.source().etag(), offset, piece.duplicate());
        if (got >= 0) {
            zeroFrom(piece, got);
            return;
        }
        withCurrentSource(node, source -> readChunk(node, idx, offset, piece, source));
    }

    private void readChunk(Node node, int idx, int offset, ByteBuffer piece, Node.Source source) {
        String etag = source.etag();
        long limit = source.limit();
        ChunkKey key = new ChunkKey(node.id, idx);
        int got = chunks.read(key, etag, offset, piece.duplicate());
        if (got >= 0) {
            zeroFrom(piece, got);
            return;
        }
        requireCurrent(node, source);
        if (etag == null || (long) idx * chunkSize >= limit) {
            zeroFrom(piece, 0);
            return;
        }
        fetch(node, idx, etag);
        got = chunks.read(key, etag, offset, piece.duplicate());
        if (got < 0) {
            requireCurrent(node, source);
            // Evicted as soon as it was stored (a cache full of dirty chunks): straight from the bucket.
            byte[] data = get(key(node), (long) idx * chunkSize, etag);
            got = Math.max(0, Math.min(piece.remaining(), data.length - offset));
            piece.duplicate().put(data, Math.min(offset, data.length), got);
        }
        zeroFrom(piece, got);
    }

    /**
     * After a miss: an upload that finished meanwhile moved the node to a new version before it
     * relabelled the chunks, so a miss under an old source may only mean the chunk is now the new
     * version's. Then the access is repeated ({@link #withCurrentSource}) rather than taken for a hole.
     */
    private static void requireCurrent(Node node, Node.Source source) {
        if (!node.source().equals(source)) {
            throw new FsException(FsError.STALE, "the file moved to a new version while it was read");
        }
    }

    private static void zeroFrom(ByteBuffer piece, int from) {
        for (int i = from; i < piece.remaining(); i++) {
            piece.put(piece.position() + i, (byte) 0);
        }
    }

    /**
     * Brings one chunk into the cache: one ranged GET per chunk and version, however many callers
     * want it at once. A read-ahead of the chunk that is queued but not started yet is run here rather
     * than waited for. When the GET this caller waited for failed (a read-ahead's GET of several
     * chunks can break off in the middle of its body, after the store's own retries), the caller tries
     * once more by itself.
     */
    private void fetch(Node node, int idx, String etag) {
        FetchKey fk = new FetchKey(node.id, idx, etag);
        for (int attempt = 1; ; attempt++) {
            Fetch mine = new Fetch();
            // Claimed before it is published: another reader that finds it must wait for it, not run it too.
            mine.claim();
            Fetch running = fetches.putIfAbsent(fk, mine);
            if (running == null) {
                runFetch(node, idx, fk, mine);
                return;
            }
            if (running.claim()) {
                runFetch(node, idx, fk, running);
                return;
            }
            try {
                await(running, "read of " + node.path);
                return;
            } catch (RuntimeException e) {
                fetches.remove(fk, running);
                if (attempt > 1 || !running.isCompletedExceptionally()) {
                    throw e; // the second failure, or no answer in time
                }
                LOG.debug("read of {} chunk {} failed in another GET, trying again: {}", node.path, idx, e.toString());
            }
        }
    }

    /**
     * Queues one GET of up to {@code count} chunks from {@code first} on the read-ahead pool; a chunk
     * fetched or queued already ends the run. Each chunk is stored and handed to its waiters as soon as
     * its bytes arrived, so the first is ready as early as with a GET of its own.
     */
    private void prefetch(Node node, int first, int count, String etag) {
        List<Fetch> run = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Fetch mine = new Fetch();
            if (fetches.putIfAbsent(new FetchKey(node.id, first + i, etag), mine) != null) {
                break;
            }
            run.add(mine);
        }
        if (run.isEmpty()) {
            return;
        }
        try {
            readAhead.execute(() -> runPrefetch(node, first, run, etag));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            FsException closing = new FsException(FsError.IO, "the drive is closing");
            for (int i = 0; i < run.size(); i++) {
                fetches.remove(new FetchKey(node.id, first + i, etag), run.get(i));
                run.get(i).completeExceptionally(closing);
            }
        }
    }

    /**
     * The GET of a queued run. A reader that wanted one of its chunks before it started fetched that
     * chunk itself (see {@link #fetch}): the GET covers the chunks from the first to the last still
     * unclaimed and not in the cache already, and passes over the others' bytes.
     */
    private void runPrefetch(Node node, int first, List<Fetch> run, String etag) {
        boolean[] mine = new boolean[run.size()];
        int from = -1;
        int to = -1;
        for (int i = 0; i < run.size(); i++) {
            if (run.get(i).claim()) {
                if (chunks.read(new ChunkKey(node.id, first + i), etag, 0, EMPTY) >= 0) {
                    // Stored since this run was queued, by a run queued just before it that ended meanwhile.
                    run.get(i).complete(null);
                    fetches.remove(new FetchKey(node.id, first + i, etag), run.get(i));
                    continue;
                }
                mine[i] = true;
                from = from < 0 ? i : from;
                to = i;
            }
        }
        if (from < 0) {
            return;
        }
        int start = from;
        int end = to + 1;
        try {
            readObject(key(node), (long) (first + start) * chunkSize, (long) (end - start) * chunkSize, etag,
                    (object, length, body) -> {
                        byte[] transfer = new byte[FETCH_TRANSFER];
                        for (int i = start; i < end; i++) {
                            int n;
                            if (mine[i] && !run.get(i).isDone()) {
                                // Stored before the waiters go on: a writer that waited writes into it next.
                                n = storeFetched(new ChunkKey(node.id, first + i), etag, body, transfer);
                                run.get(i).complete(null);
                                fetches.remove(new FetchKey(node.id, first + i, etag), run.get(i));
                            } else {
                                n = passChunk(body, transfer, null);
                            }
                            if (n < chunkSize) {
                                break;
                            }
                        }
                        return null;
                    });
        } catch (RuntimeException e) {
            LOG.debug("read-ahead of {} chunks {}-{} failed: {}", node.path, first + start, first + end - 1, e.toString());
            RuntimeException failure = e instanceof StoreException se ? FsException.of("read of " + node.path, se) : e;
            for (int i = start; i < end; i++) {
                if (mine[i]) {
                    run.get(i).completeExceptionally(failure);
                }
            }
        } finally {
            for (int i = start; i < end; i++) {
                if (mine[i] && !run.get(i).isDone()) {
                    run.get(i).completeExceptionally(new FsException(FsError.IO, "read of " + node.path
                            + ": the object ended before chunk " + (first + i)));
                }
                if (mine[i]) {
                    fetches.remove(new FetchKey(node.id, first + i, etag), run.get(i));
                }
            }
        }
    }

    private void runFetch(Node node, int idx, FetchKey fk, Fetch mine) {
        ChunkKey key = new ChunkKey(node.id, idx);
        try {
            if (chunks.read(key, fk.etag(), 0, EMPTY) < 0) { // else another reader fetched it after our miss
                // Stored before the waiters go on: a writer that waited for the chunk writes into it next.
                readObject(key(node), (long) idx * chunkSize, chunkSize, fk.etag(),
                        (object, length, body) -> storeFetched(key, fk.etag(), body, new byte[FETCH_TRANSFER]));
            }
            mine.complete(null);
        } catch (StoreException e) {
            FsException fe = FsException.of("read of " + node.path, e);
            mine.completeExceptionally(fe);
            throw fe;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            fetches.remove(fk, mine);
        }
    }

    /**
     * Stores the next chunk of {@code body} as clean chunk {@code key} of version {@code etag}, its bytes
     * passing through {@code transfer} on their way to the cache's disk; returns how many it has (a
     * chunk, or fewer where the body ends). A failure reading the body stores nothing.
     */
    private int storeFetched(ChunkKey key, String etag, InputStream body, byte[] transfer) throws IOException {
        try (ChunkStore.CleanChunkWriter writer = chunks.storeClean(key, etag)) {
            int n = passChunk(body, transfer, writer);
            writer.store();
            return n;
        }
    }

    /**
     * Reads the next chunk of {@code body} (a chunk, or less where it ends) through {@code transfer}, into
     * {@code to} unless it is null; returns how many bytes it had.
     */
    private int passChunk(InputStream body, byte[] transfer, ChunkStore.CleanChunkWriter to) throws IOException {
        int n = 0;
        while (n < chunkSize) {
            int want = Math.min(transfer.length, chunkSize - n);
            int got = body.readNBytes(transfer, 0, want);
            if (got > 0 && to != null) {
                to.append(ByteBuffer.wrap(transfer, 0, got));
            }
            n += got;
            if (got < want) {
                break; // the body ended
            }
        }
        return n;
    }

    private String key(Node node) {
        synchronized (node) {
            return key(node.path);
        }
    }

    private byte[] get(String key, long offset, String etag) {
        return readObject(key, offset, chunkSize, etag, BodyReader.whole()).data();
    }

    /**
     * A GET of the object at {@code key}, or of the source of its copy while a rename has not copied it
     * yet. The copy runs in another thread, and the source's delete right after it: a "no such key" may
     * predate a copy that has finished since, so before it is believed the key is asked once more (a
     * second GET only when the object is missing, which is rare).
     */
    private <T> T readObject(String key, long offset, long length, String etag, BodyReader<T> reader) {
        try {
            return store.read(key, offset, length, etag, reader);
        } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.NOT_FOUND) {
                throw e;
            }
            String source = writeBack.copySourceOf(key);
            if (source != null) {
                try {
                    return store.read(source, offset, length, etag, reader);
                } catch (StoreException se) {
                    if (se.kind() != StoreException.Kind.NOT_FOUND) {
                        throw se;
                    }
                }
            }
            return store.read(key, offset, length, etag, reader);
        }
    }

    private <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(options.fetchTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(FsError.IO, what + ": interrupted");
        } catch (TimeoutException e) {
            throw new FsException(FsError.IO, what + ": no answer from the bucket in " + options.fetchTimeout());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new FsException(FsError.IO, what + ": " + e.getCause(), e.getCause());
        }
    }

    /**
     * The chunks to keep fetched ahead of a reader that has read {@code run} bytes in order: {@code
     * readAheadChunks} at first, then {@link #READ_AHEAD_GROWTH} times as many as it has read, up to
     * that many times the first window. A GET of a few chunks at a time keeps pace only where one
     * connection to the bucket is fast: a long, thin link (a bucket far away) delivers 20-100 MB/s
     * per connection, so a long reader needs more GETs at once (docs/BENCHMARKS.md, sessions 32–33). A
     * reader that stops early has had at most four times what it read fetched ahead.
     */
    private int readAheadWindow(long run) {
        int first = options.readAheadChunks();
        long grown = (long) READ_AHEAD_GROWTH * (run / chunkSize);
        return (int) Math.min((long) first * READ_AHEAD_GROWTH, Math.max(first, grown));
    }

    /**
     * Keeps the {@code window} chunks after {@code from} fetched or on their way, in GETs of as many
     * chunks as the window has grown times over its first size, up to {@link #READ_AHEAD_GET_CHUNKS}:
     * a new reader's first window goes in GETs of one chunk each, which a far bucket delivers side by
     * side (each connection to it is paced on its own), and a long reader's full window in GETs of four,
     * so it costs one request per 16 MiB, not per chunk. Either way about {@code readAheadChunks} GETs
     * are on their way. It waits until a GET's worth of chunks is missing (or the window reaches the
     * end of the file).
     */
    private void readAhead(Node node, long from, int window) {
        String etag;
        long limit;
        synchronized (node) {
            etag = node.etag;
            limit = Math.min(node.remoteLimit, node.size);
        }
        if (etag == null || window == 0) {
            return;
        }
        int first = (int) ((from + chunkSize - 1) / chunkSize);
        int fileChunks = (int) ((limit + chunkSize - 1) / chunkSize);
        int end = Math.min(first + window, fileChunks);
        int perGet = Math.max(1, Math.min(READ_AHEAD_GET_CHUNKS, window / options.readAheadChunks()));
        int missing = 0;
        BitSet wanted = new BitSet();
        for (int idx = first; idx < end; idx++) {
            if (!fetches.containsKey(new FetchKey(node.id, idx, etag))
                    && chunks.read(new ChunkKey(node.id, idx), etag, 0, EMPTY) < 0) {
                wanted.set(idx);
                missing++;
            }
        }
        if (missing == 0 || missing < perGet && end < fileChunks) {
            return;
        }
        for (int idx = wanted.nextSetBit(first); idx >= 0; ) {
            int runEnd = wanted.nextClearBit(idx);
            for (int at = idx; at < runEnd; at += perGet) {
                prefetch(node, at, Math.min(perGet, runEnd - at), etag);
            }
            idx = wanted.nextSetBit(runEnd);
        }
    }

    /**
     * The bytes {@code [offset, offset + length)} of a file as an upload sends them: local chunks,
     * else the first {@code remoteSize} bytes of the remote version {@code etag} of {@code key}, else zeros.
     */
    byte[] content(long fileId, String key, String etag, long remoteSize, long offset, int length) {
        byte[] out = new byte[length];
        content(fileId, key, etag, remoteSize, offset, out, length);
        return out;
    }

    /** {@link #content} into the first {@code length} bytes of {@code out}, whatever they held. */
    void content(long fileId, String key, String etag, long remoteSize, long offset, byte[] out, int length) {
        int done = 0;
        while (done < length) {
            long pos = offset + done;
            int idx = (int) (pos / chunkSize);
            int inChunk = (int) (pos % chunkSize);
            int n = Math.min(chunkSize - inChunk, length - done);
            ByteBuffer piece = ByteBuffer.wrap(out, done, n);
            int got = chunks.read(new ChunkKey(fileId, idx), etag, inChunk, piece.duplicate());
            if (got < 0 && etag != null && (long) idx * chunkSize < remoteSize) {
                byte[] data = get(key, (long) idx * chunkSize, etag);
                chunks.putClean(new ChunkKey(fileId, idx), etag, ByteBuffer.wrap(data));
                got = Math.max(0, Math.min(n, data.length - inChunk));
                System.arraycopy(data, inChunk, out, done, got);
            }
            Arrays.fill(out, done + Math.max(0, got), done + n, (byte) 0); // a hole, or past the chunk's end
            done += n;
        }
    }

    // ---------------------------------------------------------------- namespace

    /** The index path for a mount path, mapping shown names back to key components. */
    String resolve(String fusePath) {
        String trimmed = fusePath.startsWith("/") ? fusePath.substring(1) : fusePath;
        if (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder(trimmed.length());
        for (String component : trimmed.split("/", -1)) {
            if (component.isEmpty()) {
                throw new FsException(FsError.INVALID_ARGUMENT, "empty name in " + fusePath);
            }
            String parent = out.toString();
            String keyName = options.names().toKey(component);
            if (options.caseInsensitive()) {
                String child = join(parent, keyName);
                if (index.lookup(child).isEmpty()) {
                    List<String> names = index.children(parent).stream().map(Entry::name).toList();
                    String matched = CaseCollisions.keyFor(component, shownNames(names), true);
                    if (matched != null) {
                        keyName = matched;
                    }
                }
            }
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(keyName);
        }
        return out.toString();
    }

    private Map<String, String> shownNames(List<String> keyNames) {
        return CaseCollisions.shownNames(keyNames, options.names(), options.caseInsensitive());
    }

    /** The entry at an index path, from a listing no older than the listing TTL. */
    Entry entry(String path) {
        return optionalEntry(path).orElseThrow(() -> new FsException(FsError.NOT_FOUND, "no such file: /" + path));
    }

    private Optional<Entry> optionalEntry(String path) {
        if (path.isEmpty()) {
            return index.lookup("");
        }
        ensureListed(Entry.parentOf(path), false, true, path);
        return index.lookup(path);
    }

    private void requireDirectory(String path) {
        Optional<Entry> dir = index.lookup(path);
        if (dir.isEmpty()) {
            throw new FsException(FsError.NOT_FOUND, "no such directory: /" + path);
        }
        if (dir.get().type() != Entry.Type.DIRECTORY) {
            throw new FsException(FsError.NOT_A_DIRECTORY, "/" + path + " is not a directory");
        }
    }

    /**
     * Lists a directory in the bucket when the last listing is older than the TTL. When the bucket
     * cannot be reached, a directory listed before is served from the index (offline use); one never
     * listed fails with EIO ({@code strict}) or shows what the index has.
     */
    private void ensureListed(String dir, boolean strict) {
        ensureListed(dir, strict, false, null);
    }

    /**
     * As {@link #ensureListed(String, boolean)}; with {@code keptWillDo}, a listing the cache kept
     * from an earlier mount is shown as it is, however old (warm start): the background lists the
     * directory again within half the TTL, as any directory in use ({@link RemoteWatcher}). A look for
     * a name such a listing lacks ({@code path}) lists now, as the name may be new; an open still
     * revalidates the file it finds. With a TTL of zero every look lists.
     */
    private void ensureListed(String dir, boolean strict, boolean keptWillDo, String path) {
        Optional<Entry> e = index.lookup(dir);
        if (e.isEmpty() || e.get().type() != Entry.Type.DIRECTORY) {
            return;
        }
        watcher.used(dir);
        long listedAt = e.get().listedAt();
        if (now() - listedAt < options.listingTtl().toMillis()) {
            return;
        }
        if (keptWillDo && listedAt > 0 && listedAt < openedAt && !options.listingTtl().isZero()
                && (path == null || index.lookup(path).isPresent())) {
            return;
        }
        if (awaitSubtreeListing(dir)) {
            e = index.lookup(dir);
            if (e.isEmpty() || e.get().type() != Entry.Type.DIRECTORY || !isStale(e.get())) {
                return;
            }
        }
        try {
            listDirectory(dir, 0);
            watcher.listedOnDemand(dir);
        } catch (StoreException ex) {
            if (listedAt == 0 && strict) {
                throw FsException.of("listing /" + dir, ex);
            }
            LOG.warn("cannot list /{} ({}); showing what the cache knows", dir, ex.getMessage());
        }
    }

    /**
     * How old a listing of a directory in use may get before the background lists it again: half the
     * TTL, and the watcher's rounds come that often, so a directory in use never waits for a LIST.
     */
    private Duration refreshAfter() {
        return options.listingTtl().dividedBy(2);
    }

    /**
     * The background watcher's round: lists {@code dir} again if its listing is older than
     * {@link #refreshAfter()} (its subtree, flat, if most of that is as old); whether it did.
     */
    private boolean refreshIfAging(String dir) {
        long maxAge = refreshAfter().toMillis();
        Optional<Entry> e = index.lookup(dir);
        if (e.isEmpty() || e.get().type() != Entry.Type.DIRECTORY) {
            watcher.forget(dir);
            return false;
        }
        if (!olderThan(e.get(), maxAge)) {
            return false;
        }
        if (subdirectoriesMostlyOlderThan(dir, maxAge)) {
            listSubtree(dir);
        }
        listDirectory(dir, maxAge);
        return true;
    }

    private boolean isStale(Entry dir) {
        return olderThan(dir, options.listingTtl().toMillis());
    }

    private boolean olderThan(Entry dir, long maxAgeMillis) {
        return now() - dir.listedAt() >= maxAgeMillis;
    }

    /**
     * Whether at least half the subdirectories of {@code dir} (and two) have listings older than
     * {@code maxAgeMillis}: then a flat listing of the subtree saves requests, not when a flat listing
     * of it covered most already, nor when the subtree has more keys than one flat listing reads.
     */
    private boolean subdirectoriesMostlyOlderThan(String dir, long maxAgeMillis) {
        int subdirectories = 0;
        int old = 0;
        for (Entry c : index.children(dir)) {
            if (c.type() == Entry.Type.DIRECTORY) {
                subdirectories++;
                old += olderThan(c, maxAgeMillis) ? 1 : 0;
            }
        }
        return old >= 2 && 2 * old >= subdirectories && !subtreesTooBig.contains(dir);
    }

    /**
     * Waits while a flat listing in flight of a subtree holding {@code dir} has not come to the keys
     * of {@code dir} yet: it merges every directory its keys went past page by page, so a walk of the
     * tree goes on as soon as the listing covered where it looks, not once the whole subtree came. A
     * directory the listing is still inside (or went past without merging, as its parent was not
     * listed yet) is not waited for: the caller lists it. Whether it waited at all.
     */
    private boolean awaitSubtreeListing(String dir) {
        boolean waited = false;
        String key = dirKey(dir);
        for (String d = dir; !subtreeListings.isEmpty(); d = Entry.parentOf(d)) {
            SubtreeListing running = subtreeListings.get(d);
            while (running != null && !running.isDone()) {
                CompletableFuture<Void> page = running.nextPage(); // before the check: never missed
                if (!running.notYetAt(key)) {
                    break;
                }
                waited = true;
                try {
                    await(page, "listing /" + d);
                } catch (RuntimeException ex) {
                    LOG.debug("flat listing of /{}: {}", d, ex.toString());
                    break;
                }
            }
            if (d.isEmpty()) {
                break;
            }
        }
        return waited;
    }

    /**
     * A flat listing of a subtree in flight: done when it ended, with the last key it merged and a
     * future of its next page (which also completes when the listing ends).
     */
    private static final class SubtreeListing extends CompletableFuture<Void> {
        private volatile String reached;
        private volatile CompletableFuture<Void> nextPage = new CompletableFuture<>();

        /** Whether the listing has not come to {@code key} yet (nor to a key after it). */
        boolean notYetAt(String key) {
            String r = reached;
            return r == null || KeyOrder.UTF8.compare(key, r) > 0;
        }

        /** Completes when the listing merged its next page, or ended. */
        CompletableFuture<Void> nextPage() {
            return nextPage;
        }

        /** The listing merged what its keys up to {@code last} covered. */
        void reached(String last) {
            CompletableFuture<Void> page = nextPage;
            reached = last;
            nextPage = new CompletableFuture<>();
            page.complete(null);
        }

        @Override
        public boolean complete(Void value) {
            boolean done = super.complete(value);
            nextPage.complete(null);
            return done;
        }

        @Override
        public boolean completeExceptionally(Throwable t) {
            boolean done = super.completeExceptionally(t);
            nextPage.complete(null);
            return done;
        }
    }

    /**
     * Lists the whole subtree below {@code dir} flat (no delimiter: a thousand keys a request, however
     * many directories they are in) and merges the listing of every directory it covers, so that a
     * walk of the tree waits for no LIST per directory. It merges after each page what that page
     * completed: the directories whose keys all came (they sort before the last key read). After
     * {@value #SUBTREE_PAGES} pages it stops, and the rest are listed when looked into. Runs in the
     * background, after a program waited for {@code dir}.
     */
    private void listSubtree(String dir) {
        for (String d = dir; !d.isEmpty(); ) {
            d = Entry.parentOf(d);
            if (subtreeListings.containsKey(d)) {
                return; // one above covers it
            }
        }
        SubtreeListing mine = new SubtreeListing();
        if (subtreeListings.putIfAbsent(dir, mine) != null) {
            return;
        }
        runListing(subtreeListings, dir, mine, true, watch -> {
            long started = now();
            String prefix = dirKey(dir);
            Map<String, Map<String, ObjectSummary>> files = new HashMap<>();
            Map<String, Set<String>> dirs = new HashMap<>();
            files.put(dir, new LinkedHashMap<>());
            dirs.put(dir, new HashSet<>());
            String token = null;
            String last = null;
            int pages = 0;
            do {
                ListPage page = store.list(prefix, null, token, ObjectStore.MAX_BATCH);
                for (ObjectSummary o : page.objects()) {
                    addToListings(dir, o.key().substring(prefix.length()), o, files, dirs);
                    last = o.key();
                }
                token = page.nextToken();
                mergeCovered(dir, files, dirs, last, token == null, started, watch);
                mine.reached(last);
            } while (token != null && ++pages < SUBTREE_PAGES);
            if (token != null && subtreesTooBig.size() < 10_000) {
                subtreesTooBig.add(dir);
            }
        });
    }

    /**
     * Merges the directories below {@code dir} whose keys a flat listing read up to {@code end} (all
     * of them when {@code complete}) and that no listing since {@code started} covered. From the top,
     * parents first: a merge brings in the subdirectories merged next. A directory with no key in the
     * bucket (made here, its files not uploaded yet) is merged as empty once the listing went past
     * where its keys would be.
     */
    private void mergeCovered(String dir, Map<String, Map<String, ObjectSummary>> files, Map<String, Set<String>> dirs,
                              String end, boolean complete, long started, ListingWatch watch) {
        Deque<String> next = new ArrayDeque<>(List.of(dir));
        while (!next.isEmpty()) {
            String d = next.poll();
            String k = dirKey(d);
            boolean inside = end != null && end.startsWith(k);
            if (!complete && !inside && (end == null || KeyOrder.UTF8.compare(k, end) > 0)) {
                continue; // past the listing's end, as is all below it
            }
            Optional<Entry> e = index.lookup(d);
            if (e.isEmpty() || e.get().type() != Entry.Type.DIRECTORY) {
                continue;
            }
            if ((complete || !inside) && e.get().listedAt() < started && !listings.containsKey(d)) {
                merge(d, files.getOrDefault(d, Map.of()), dirs.getOrDefault(d, Set.of()), started, watch);
            }
            for (Entry c : index.children(d)) {
                if (c.type() == Entry.Type.DIRECTORY) {
                    next.add(c.path());
                }
            }
        }
    }

    /**
     * Runs a listing registered as {@code mine} under {@code dir} in {@code inFlight}, where others
     * find and wait for it: with a mark of this mount's recent writes taken before its first request,
     * the future completed as the listing ends and the registration removed.
     */
    private <F extends CompletableFuture<Void>> void runListing(ConcurrentHashMap<String, F> inFlight, String dir,
                                                                F mine, boolean subtree, Consumer<ListingWatch> listing) {
        ListingWatch watch = new ListingWatch(recentWrites.mark(), dir, subtree);
        listingWatches.add(watch);
        try {
            listing.accept(watch);
            mine.complete(null);
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            listingWatches.remove(watch);
            recentWrites.release(watch.mark);
            inFlight.remove(dir, mine);
        }
    }

    /**
     * A listing in flight, from the mark of this mount's recent writes taken before its first request,
     * with the directories under it whose names changed here since: a merge of one of those only adds
     * names, as the listing may predate the change ({@link #merge}).
     */
    private static final class ListingWatch {
        final long mark;
        private final String top;
        private final boolean subtree;
        private final Set<String> changed = ConcurrentHashMap.newKeySet();
        private volatile boolean allChanged;

        ListingWatch(long mark, String top, boolean subtree) {
            this.mark = mark;
            this.top = top;
            this.subtree = subtree;
        }

        private boolean covers(String dir) {
            return dir.equals(top) || (subtree && isBelow(dir, top));
        }

        boolean quiet(String dir) {
            return !allChanged && !changed.contains(dir);
        }
    }

    /**
     * Names in {@code dir} changed here ({@code andBelow}: in the directories below it too, as when it
     * is renamed or removed), for the listings in flight. Under {@link #namespace}.
     */
    void changedIn(String dir, boolean andBelow) {
        for (ListingWatch w : listingWatches) {
            if (andBelow && (w.covers(dir) || isBelow(w.top, dir) || w.top.equals(dir))) {
                w.allChanged = true;
            } else if (w.covers(dir)) {
                w.changed.add(dir);
            }
        }
    }

    private static boolean isBelow(String path, String dir) {
        return dir.isEmpty() ? !path.isEmpty() : path.startsWith(dir + "/");
    }

    /**
     * Files one key of a flat listing under the directories on its path: {@code a/b/c} below {@code dir}
     * is directory {@code a} in {@code dir}, {@code b} in {@code dir/a} and file {@code c} in
     * {@code dir/a/b}. An empty component ends it, as a delimited listing shows no such name.
     */
    private static void addToListings(String dir, String relative, ObjectSummary o,
                                      Map<String, Map<String, ObjectSummary>> files, Map<String, Set<String>> dirs) {
        String parent = dir;
        int start = 0;
        while (true) {
            int slash = relative.indexOf('/', start);
            String name = slash < 0 ? relative.substring(start) : relative.substring(start, slash);
            if (name.isEmpty()) {
                return;
            }
            if (slash < 0) {
                files.get(parent).put(name, o);
                return;
            }
            dirs.get(parent).add(name);
            parent = join(parent, name);
            files.computeIfAbsent(parent, k -> new LinkedHashMap<>());
            dirs.computeIfAbsent(parent, k -> new HashSet<>());
            start = slash + 1;
        }
    }

    /**
     * Lists {@code dir} and merges the listing, or waits for the listing of it in flight. Lists only
     * when the listing is at least {@code unlessYoungerThanMillis} old then (0: in any case): a
     * background caller found it old a moment ago, and one that finished since makes this needless.
     */
    private void listDirectory(String dir, long unlessYoungerThanMillis) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = listings.putIfAbsent(dir, mine);
        if (running != null) {
            await(running, "listing /" + dir);
            return;
        }
        runListing(listings, dir, mine, false, watch -> {
            if (unlessYoungerThanMillis > 0
                    && index.lookup(dir).filter(e -> olderThan(e, unlessYoungerThanMillis)).isEmpty()) {
                return;
            }
            long started = now();
            String prefix = dirKey(dir);
            Map<String, ObjectSummary> files = new LinkedHashMap<>();
            Set<String> dirs = new HashSet<>();
            String token = null;
            do {
                ListPage page = store.list(prefix, "/", token, ObjectStore.MAX_BATCH);
                for (ObjectSummary o : page.objects()) {
                    String name = o.key().substring(prefix.length());
                    if (!name.isEmpty() && !name.contains("/")) {
                        files.put(name, o);
                    }
                }
                for (String p : page.commonPrefixes()) {
                    String name = p.substring(prefix.length(), p.length() - 1);
                    if (!name.isEmpty()) {
                        dirs.add(name);
                    }
                }
                token = page.nextToken();
            } while (token != null);
            merge(dir, files, dirs, started, watch);
        });
    }

    /**
     * Brings the index's view of one directory in line with a listing, keeping local changes; a key
     * this mount wrote since the listing's mark (taken before the LIST was sent) is left as it is here.
     */
    private void merge(String dir, Map<String, ObjectSummary> files, Set<String> dirs, long listedAt,
                       ListingWatch watch) {
        PosixMetadata.Defaults d = options.defaults();
        long mark = watch.mark;
        namespace.lock();
        try {
            // Names here changed while the listing was in flight: it may predate that change, so it
            // only adds names; the next listing does the rest.
            boolean quiet = watch.quiet(dir);
            // Our own uploads or deletes below what it lists ran while it was in flight: a server may
            // then list an object being written under a name of its own (S3Proxy's filesystem store
            // shows `<key>-<uuid>` while a PUT runs), and leave out objects that were there before the
            // listing began (the same store, 3.3.0: 67 of 90 listings of a directory taken during four
            // streams of PUTs into it missed objects written before they started; a flat listing of a
            // subtree during an `rm -r` of the files at its top missed whole directories below). So it
            // neither adds nor removes a file; the next listing does, and brings what others changed.
            // A flat listing is one walk of its whole subtree: changes anywhere in it count.
            String listed = dirKey(watch.subtree ? watch.top : dir);
            boolean whole = !recentWrites.changedUnderSince(listed, mark) && !writeBack.uploadingUnder(listed);
            Map<String, Entry> local = new HashMap<>();
            for (Entry c : index.children(dir)) {
                local.put(c.name(), c);
            }
            List<String> brought = new ArrayList<>(); // in for an attribute read that will not fetch them
            for (Map.Entry<String, ObjectSummary> f : files.entrySet()) {
                String name = f.getKey();
                ObjectSummary o = f.getValue();
                if (dirs.contains(name) || ownChangeSince(o.key(), mark)) {
                    continue;
                }
                Entry e = local.get(name);
                if (e == null && !whole) {
                    continue;
                }
                if (e == null) {
                    e = index.upsert(new Entry(0, join(dir, name), Entry.Type.FILE, o.size(),
                            o.lastModified().toEpochMilli(), PosixAttributes.S_IFREG | d.fileMode(), d.uid(), d.gid(),
                            o.etag(), 0));
                    confirmedAt.put(e.id(), listedAt);
                    attributeReader.schedule(e.id());
                    if (fetchableAhead(o.size())) {
                        brought.add(name);
                    }
                } else if (e.type() != Entry.Type.DIRECTORY && !o.etag().equals(e.etag())) {
                    if (quiet && !hasLocalChanges(e.id())) {
                        index.upsert(new Entry(e.id(), e.path(), e.type(), o.size(), o.lastModified().toEpochMilli(),
                                e.mode(), e.uid(), e.gid(), o.etag(), 0));
                        confirmedAt.put(e.id(), listedAt);
                        attributeReader.schedule(e.id());
                        if (fetchableAhead(o.size())) {
                            brought.add(name);
                        }
                    }
                } else if (e.type() != Entry.Type.DIRECTORY) {
                    confirmedAt.put(e.id(), listedAt);
                }
            }
            for (String name : dirs) {
                Entry e = local.get(name);
                if (e == null) {
                    // Unless renamed or removed here with its objects not all moved or deleted yet.
                    if (!ownChangeUnderSince(dirKey(join(dir, name)), mark)) {
                        index.upsert(new Entry(0, join(dir, name), Entry.Type.DIRECTORY, 0, listedAt,
                                PosixAttributes.S_IFDIR | d.directoryMode(), d.uid(), d.gid(), "", 0));
                    }
                } else if (e.type() == Entry.Type.DIRECTORY && e.etag() == null && !writeBack.hasPendingUpload(e.id())) {
                    index.upsert(new Entry(e.id(), e.path(), e.type(), 0, e.mtimeMillis(), e.mode(), e.uid(), e.gid(),
                            "", e.listedAt()));
                }
            }
            for (Entry e : quiet && whole ? local.values() : List.<Entry>of()) {
                String name = e.name();
                if (files.containsKey(name) || dirs.contains(name) || e.etag() == null) {
                    continue; // still there, or only local so far
                }
                if (e.type() == Entry.Type.DIRECTORY ? holdsLocalChanges(e.path()) : hasLocalChanges(e.id())) {
                    continue; // deleted remotely, changed here: the local change recreates it
                }
                if (e.type() == Entry.Type.DIRECTORY ? ownChangeUnderSince(dirKey(e.path()), mark)
                        : ownChangeSince(key(e.path()), mark)) {
                    continue;
                }
                index.remove(e.path());
                detach(e.id());
            }
            if (quiet) {
                index.markListed(dir, listedAt);
            }
            if (!brought.isEmpty()) {
                if (fetchable.size() > REVALIDATED_DIRECTORIES_KEPT) {
                    fetchable.clear();
                }
                fetchable.merge(dir, new FetchableFiles(brought), FetchableFiles::with);
            }
        } finally {
            namespace.unlock();
        }
    }

    /** A file the attribute reader only HEADs (over {@link #SMALL_FILE}) that an open could fetch ahead. */
    private boolean fetchableAhead(long size) {
        return size > Math.min(SMALL_FILE, chunkSize) && size <= Math.min(FETCHED_BY_OPEN, chunkSize);
    }

    /**
     * A program that opens a file for reading is likely to read the files after it in the directory
     * too (tar, cp -r, a viewer going through photos). The files a listing brought in that the
     * attribute reader only HEADs would then each wait for a GET at their first read. So an open asks
     * for the next {@value #FILES_FETCHED_AHEAD} of them after its own name not asked for before: their
     * attribute read GETs them (a read still queued turns into that GET), unless they are cached, open
     * or changed here. Each name is asked for once; a directory's later listing brings its new ones.
     */
    private void fetchAhead(Entry opened) {
        FetchableFiles files = fetchable.get(opened.parent());
        if (files == null) {
            return;
        }
        for (String name : files.next(opened.name(), FILES_FETCHED_AHEAD)) {
            // The attribute read passes over a file open or changed here (readAttributes).
            index.lookup(join(opened.parent(), name))
                    .filter(f -> fetchableAhead(f.size()) && !firstChunkCached(f))
                    .ifPresent(f -> {
                        contentWanted.add(f.id());
                        if (!attributeReader.schedule(f.id())) {
                            contentWanted.remove(f.id());
                        }
                    });
        }
    }

    private boolean firstChunkCached(Entry e) {
        return chunks.read(new ChunkKey(e.id(), 0), e.etag(), 0, EMPTY) >= 0;
    }

    /**
     * The names of one directory's files an open may fetch ahead, in key order, and how far opens have
     * asked for them (the position after the last name asked for).
     */
    private static final class FetchableFiles {
        private final List<String> names;
        private int askedUpTo;

        FetchableFiles(List<String> names) {
            this.names = names.stream().sorted(KeyOrder.UTF8).distinct().toList();
        }

        /** This directory's names and those of a later listing, none asked for yet. */
        FetchableFiles with(FetchableFiles later) {
            List<String> all = new ArrayList<>(later.names);
            synchronized (this) {
                all.addAll(names.subList(askedUpTo, names.size()));
            }
            return new FetchableFiles(all);
        }

        /**
         * Those of the {@code count} names after {@code name} not asked for before; they, and any names
         * before them, count as asked for now.
         */
        synchronized List<String> next(String name, int count) {
            int at = Collections.binarySearch(names, name, KeyOrder.UTF8);
            int after = at >= 0 ? at + 1 : -at - 1;
            int from = Math.max(after, askedUpTo);
            int to = Math.max(from, Math.min(names.size(), after + count));
            askedUpTo = to;
            return names.subList(from, to);
        }
    }

    private boolean hasLocalChanges(long fileId) {
        Node n = nodes.get(fileId);
        if (n != null) {
            synchronized (n) {
                if (n.changed) {
                    return true;
                }
            }
        }
        return writeBack.hasPendingUpload(fileId);
    }

    private boolean holdsLocalChanges(String dir) {
        for (long id : writeBack.pendingUploadIds()) {
            Optional<Entry> e = index.byId(id);
            if (e.isPresent() && (e.get().path().equals(dir) || e.get().path().startsWith(dir + "/"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * On open: when the file's version was confirmed longer ago than {@code revalidateAfter}, HEAD it;
     * a changed object refreshes the entry (and its POSIX metadata), a deleted one goes. A file opened
     * {@code forReading}, not in the cache and at most {@link #FETCHED_BY_OPEN} bytes and one chunk
     * long is asked with a GET of it instead: the same round trip brings what the first read would
     * fetch with one more.
     */
    private Entry revalidate(Entry e, boolean forReading) {
        e = withAttributes(e);
        if (e.etag() == null || nodes.containsKey(e.id()) || hasLocalChanges(e.id())
                || writeBack.hasPendingStep(key(e.path()))) {
            return e;
        }
        confirmAheadOf(e);
        long now = now();
        long window = options.revalidateAfter().toMillis();
        if (now - confirmedAt.getOrDefault(e.id(), 0L) < window) {
            return e;
        }
        if (revalidatedIn.size() > REVALIDATED_DIRECTORIES_KEPT) {
            revalidatedIn.values().removeIf(at -> now - at >= window);
        }
        Long before = revalidatedIn.put(e.parent(), now);
        if (before != null && now - before < window) {
            Entry confirmed = confirmByListing(e);
            if (confirmed != null) {
                return confirmed;
            }
        }
        return refreshEntry(e, forReading && e.size() > 0 && e.size() <= Math.min(FETCHED_BY_OPEN, chunkSize)
                && !firstChunkCached(e));
    }

    /**
     * The second open within the revalidation window of a file in one directory: a program is likely
     * going through the directory's files (tar, cp -r, a build), so one LIST page from this file's key
     * on confirms the versions of this file and of up to {@value #CONFIRM_PAGE} files after it, instead
     * of a HEAD for each. Only confirms: names the page lacks or shows changed are left to the HEAD of
     * their own open (and to the directory's next listing). Returns the entry when its version was
     * confirmed, else null.
     */
    private Entry confirmByListing(Entry e) {
        String key = key(e.path());
        // Start after the key minus its last character: the page starts at the key itself.
        return confirmPage(e.parent(), key.substring(0, key.offsetByCodePoints(key.length(), -1)), e.id());
    }

    /**
     * Confirms the versions of the files of one LIST page of {@code dir} after {@code startAfter};
     * returns the entry of file {@code wanted} if the page confirmed it, else null. When the directory
     * has more, the next page is listed ahead, in the background, once a program opens a file of the
     * second half of this one ({@link #confirmAhead}): going through a directory waits for one LIST.
     */
    private Entry confirmPage(String dir, String startAfter, long wanted) {
        String prefix = dirKey(dir);
        long mark = recentWrites.mark();
        try {
            long listedAt = now();
            ListPage page;
            try {
                page = store.list(prefix, "/", null, startAfter, CONFIRM_PAGE);
            } catch (StoreException ex) {
                return null;
            }
            Entry confirmed = null;
            namespace.lock();
            try {
                for (ObjectSummary o : page.objects()) {
                    String name = o.key().substring(prefix.length());
                    if (name.isEmpty() || ownChangeSince(o.key(), mark)) {
                        continue;
                    }
                    Optional<Entry> local = index.lookup(join(dir, name));
                    if (local.isPresent() && local.get().type() != Entry.Type.DIRECTORY
                            && o.etag().equals(local.get().etag())) {
                        confirmedAt.put(local.get().id(), listedAt);
                        if (local.get().id() == wanted) {
                            confirmed = local.get();
                        }
                    }
                }
            } finally {
                namespace.unlock();
            }
            List<ObjectSummary> objects = page.objects();
            if (page.nextToken() != null && !objects.isEmpty()) {
                if (confirmAhead.size() > REVALIDATED_DIRECTORIES_KEPT) {
                    confirmAhead.clear();
                }
                confirmAhead.put(dir, new ConfirmAhead(objects.get(objects.size() / 2).key(), objects.getLast().key()));
            }
            return confirmed;
        } finally {
            recentWrites.release(mark); // else the writes recorded from here on are never forgotten
        }
    }

    /**
     * Lists the next page of confirmations of the directory of {@code e} ahead when a program going
     * through it came to the second half of the page before ({@link #confirmPage}).
     */
    private void confirmAheadOf(Entry e) {
        String dir = e.parent();
        ConfirmAhead next = confirmAhead.get(dir);
        if (next != null && KeyOrder.UTF8.compare(key(e.path()), next.fromKey()) >= 0 && confirmAhead.remove(dir, next)) {
            // Named apart from a subtree listing of the directory: no path starts with a slash.
            watcher.runAhead("/" + dir, () -> confirmPage(dir, next.afterKey(), -1));
        }
    }

    /** Where a directory's next page of confirmations starts, and from which file's open on it is wanted. */
    private record ConfirmAhead(String fromKey, String afterKey) {
    }

    /**
     * The entry with the POSIX attributes of its object, waiting for their read when a listing has
     * just brought the object in (see {@link AttributeReader}).
     */
    private Entry withAttributes(Entry e) {
        if (!attributeReader.isPending(e.id())) {
            return e;
        }
        attributeReader.await(e.id(), options.fetchTimeout());
        return index.byId(e.id()).orElse(e);
    }

    /**
     * The attribute reader's work on one listed file, unless it is in use or changed here: a HEAD, or
     * for a file of at most {@link #SMALL_FILE} bytes (or one an open asked to fetch ahead) a GET,
     * which brings the same attributes and the content as well (one request instead of a HEAD now
     * and a GET at the first read).
     */
    private void readAttributes(long fileId) {
        boolean wanted = contentWanted.remove(fileId);
        Optional<Entry> e = index.byId(fileId);
        if (e.isEmpty() || e.get().type() == Entry.Type.DIRECTORY || e.get().etag() == null
                || nodes.containsKey(fileId) || hasLocalChanges(fileId)) {
            return;
        }
        try {
            refreshEntry(e.get(), e.get().size() > 0 && e.get().size() <= Math.min(SMALL_FILE, chunkSize)
                    || wanted && fetchableAhead(e.get().size()));
        } catch (FsException gone) {
            LOG.debug("{}", gone.getMessage());
        }
    }

    /**
     * Asks the bucket about the file's object (a GET of its first chunk when {@code withContent}, else
     * a HEAD): a changed object refreshes the entry and its POSIX metadata, a deleted one goes, and the
     * content fetched becomes the file's clean first chunk.
     */
    private Entry refreshEntry(Entry e, boolean withContent) {
        assert !namespace.isHeldByCurrentThread() : "the lock order: refreshes' batch before the namespace lock";
        String key = key(e.path());
        long mark = recentWrites.mark();
        try {
            ObjectInfo info;
            byte[] content = null;
            try {
                if (withContent) {
                    ObjectBytes got = store.get(key, 0, chunkSize, null);
                    info = got.object();
                    content = got.data();
                } else {
                    info = store.head(key);
                }
            } catch (StoreException ex) {
                if (ex.kind() != StoreException.Kind.NOT_FOUND) {
                    LOG.debug("cannot revalidate /{} ({}); using the cached version", e.path(), ex.getMessage());
                    return e;
                }
                namespace.lock();
                try {
                    if (!changedHereSince(e, key, mark)) {
                        index.remove(e.path());
                        changedIn(e.parent(), false);
                        throw new FsException(FsError.NOT_FOUND, "/" + e.path() + " was deleted from the bucket");
                    }
                } finally {
                    namespace.unlock();
                }
                return e;
            }
            PosixAttributes a = PosixMetadata.read(info.metadata(), PosixMetadata.Kind.FILE, info.lastModified(),
                    options.defaults());
            Entry.Type type = a.isSymlink() ? Entry.Type.SYMLINK : Entry.Type.FILE;
            Entry fresh = new Entry(e.id(), e.path(), type, info.size(), a.mtimeMillis(), a.mode(), a.uid(), a.gid(),
                    info.etag(), 0);
            confirmedAt.put(e.id(), now());
            if (fresh.equals(e) && content == null) {
                return e;
            }
            return refreshes.submit(new Refresh(e, fresh, key, mark, content));
        } finally {
            recentWrites.release(mark);
        }
    }

    /** What one {@link #refreshEntry} found, to store: the entry as the bucket has it, and maybe its first chunk. */
    private record Refresh(Entry before, Entry fresh, String key, long mark, byte[] content) {
    }

    /**
     * Stores what several {@link #refreshEntry} calls found (the attribute readers' work, mostly) under
     * one hold of {@link #namespace} and one commit, and returns the entry each file has now. One that
     * changed here since its request was asked for keeps what it has.
     */
    private List<Entry> storeRefreshes(List<Refresh> batch) {
        Entry[] out = new Entry[batch.size()];
        List<Integer> changed = new ArrayList<>();
        List<ChunkStore.CleanChunk> bodies = new ArrayList<>();
        Set<Long> withBody = new HashSet<>();
        namespace.lock();
        try {
            for (int i = 0; i < batch.size(); i++) {
                Refresh r = batch.get(i);
                long id = r.before().id();
                if (changedHereSince(r.before(), r.key(), r.mark())) {
                    out[i] = index.byId(id).orElse(r.before());
                    continue;
                }
                // Nodes are made under this lock: with none, no writer can see the chunk change under it.
                if (r.content() != null && !nodes.containsKey(id) && withBody.add(id)) {
                    bodies.add(new ChunkStore.CleanChunk(new ChunkKey(id, 0), r.fresh().etag(),
                            ByteBuffer.wrap(r.content())));
                }
                if (r.fresh().equals(r.before())) {
                    out[i] = r.before();
                } else {
                    changed.add(i);
                    changedIn(r.before().parent(), false);
                }
            }
            if (!bodies.isEmpty() || !changed.isEmpty()) {
                // The chunks and the entries of their versions commit together.
                chunks.putClean(bodies, () -> {
                    for (int i : changed) {
                        out[i] = index.upsert(batch.get(i).fresh());
                    }
                    return null;
                });
            }
            return Arrays.asList(out);
        } finally {
            namespace.unlock();
        }
    }

    /**
     * Whether an answer about {@code key} asked for at {@code mark} may be older than what this mount
     * did to the file since: it changed here, moved, has a rename step pending, or was written since.
     * Called under {@link #namespace}.
     */
    private boolean changedHereSince(Entry e, String key, long mark) {
        return hasLocalChanges(e.id()) || index.byId(e.id()).filter(x -> x.path().equals(e.path())).isEmpty()
                || ownChangeSince(key, mark);
    }

    /** Whether this mount has a rename or delete step pending for {@code key}, or wrote it since {@code mark}. */
    private boolean ownChangeSince(String key, long mark) {
        return writeBack.hasPendingStep(key) || recentWrites.changedSince(key, mark);
    }

    /** The same for any key under a directory's key {@code prefix}. */
    private boolean ownChangeUnderSince(String prefix, long mark) {
        return writeBack.hasPendingStepUnder(prefix) || recentWrites.changedUnderSince(prefix, mark);
    }

    List<ObjectSummary> listAll(String prefix) {
        List<ObjectSummary> out = new ArrayList<>();
        String token = null;
        try {
            do {
                ListPage page = store.list(prefix, null, token, ObjectStore.MAX_BATCH);
                out.addAll(page.objects());
                token = page.nextToken();
            } while (token != null);
        } catch (StoreException e) {
            throw FsException.of("listing " + prefix, e);
        }
        return out;
    }

    FileAttributes attributes(Entry e) {
        Node n = nodes.get(e.id());
        if (n != null) {
            synchronized (n) {
                return new FileAttributes(inode(e), n.mode, n.uid, n.gid, sizeShown(n.type, n.size), n.mtimeMillis,
                        n.type == Entry.Type.DIRECTORY ? 2 : 1);
            }
        }
        int typeBits = switch (e.type()) {
            case FILE -> PosixAttributes.S_IFREG;
            case DIRECTORY -> PosixAttributes.S_IFDIR;
            case SYMLINK -> PosixAttributes.S_IFLNK;
        };
        return new FileAttributes(inode(e), typeBits | (e.mode() & 07777), e.uid(), e.gid(),
                sizeShown(e.type(), e.size()), e.mtimeMillis(), e.type() == Entry.Type.DIRECTORY ? 2 : 1);
    }

    private static long inode(Entry e) {
        return e.path().isEmpty() ? 1 : e.id() + 1;
    }

    private static long sizeShown(Entry.Type type, long size) {
        return type == Entry.Type.DIRECTORY ? 4096 : size;
    }

    /** The index path for a name about to be created: writable drive, legal name, parent listed. */
    private String newName(String path, boolean directory) {
        checkWritable();
        String p = resolve(path);
        checkName(p, directory);
        ensureListed(Entry.parentOf(p), true);
        return p;
    }

    /** Adds a new entry (under {@link #namespace}); EEXIST when the name is taken, ENOENT without a parent. */
    private Entry insert(String p, String shownPath, Entry.Type type, int mode, long listedAt) {
        requireInsertable(p, shownPath);
        return index.upsert(newEntry(p, type, mode, listedAt));
    }

    /** An entry made here, empty, owned by the drive's default user and group. */
    private Entry newEntry(String p, Entry.Type type, int mode, long listedAt) {
        PosixMetadata.Defaults d = options.defaults();
        return new Entry(0, p, type, 0, now(), mode, d.uid(), d.gid(), null, listedAt);
    }

    /** The parent is a directory and the name is free. */
    private void requireInsertable(String p, String shownPath) {
        requireDirectory(Entry.parentOf(p));
        if (index.lookup(p).isPresent()) {
            throw new FsException(FsError.EXISTS, shownPath + " exists");
        }
    }

    private void checkName(String path, boolean directory) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (utf8Length(name) > MAX_NAME_BYTES) {
            throw new FsException(FsError.NAME_TOO_LONG, "name longer than " + MAX_NAME_BYTES + " bytes: " + name);
        }
        if (utf8Length(directory ? dirKey(path) : key(path)) > ObjectStore.MAX_KEY_BYTES) {
            throw new FsException(FsError.NAME_TOO_LONG, "the key for /" + path + " would pass 1024 bytes");
        }
    }

    private void checkWritable() {
        if (options.readOnly()) {
            throw new FsException(FsError.READ_ONLY, "the drive is mounted read-only");
        }
    }

    String key(String path) {
        return options.keyPrefix() + path;
    }

    String dirKey(String path) {
        return path.isEmpty() ? options.keyPrefix() : options.keyPrefix() + path + "/";
    }

    /** The index path of a key under the prefix ({@code a/b} for {@code a/b} and {@code a/b/}). */
    String pathOf(String key) {
        String p = key.substring(options.keyPrefix().length());
        return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    long now() {
        return options.clock().millis();
    }

    void confirmed(long fileId) {
        confirmedAt.put(fileId, now());
    }

    static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
