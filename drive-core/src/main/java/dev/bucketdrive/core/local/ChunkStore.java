package dev.bucketdrive.core.local;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * File data in fixed-size chunks on local disk. A chunk is either <em>clean</em> — a copy of a range
 * of one version (ETag) of the remote object, integrity-checked when read — or <em>dirty</em> — local
 * content not yet uploaded. Dirty chunks are never evicted; clean ones are evicted least recently
 * used first when the cache is over its limit. Implementations are safe for concurrent use.
 */
public interface ChunkStore {

    /** The chunk size in bytes, fixed for the life of a cache directory. */
    int chunkSize();

    /**
     * Copies bytes of a chunk from {@code offset} into {@code dst}, as many as fit and exist. A clean
     * chunk is served only for {@code etag} (the version the caller expects) and only when its
     * checksum holds; a dirty chunk is always served.
     *
     * @return the bytes copied, or -1 on a miss (absent, another version, or damaged)
     */
    int read(ChunkKey key, String etag, int offset, ByteBuffer dst);

    /** Stores a chunk fetched from the bucket for version {@code etag}. Ignored if the chunk is dirty. */
    default void putClean(ChunkKey key, String etag, ByteBuffer data) {
        putClean(key, etag, data, () -> null);
    }

    /**
     * Stores a chunk as {@link #putClean(ChunkKey, String, ByteBuffer)} does and makes the changes of
     * {@code alongside} (to the index: the entry of the version the chunk is of) in the same
     * {@link LocalTransactions} transaction, one commit for both: if {@code alongside} throws,
     * neither holds. It runs also when the chunk is dirty and not stored. It runs under the chunk's
     * locks, so it must not touch chunks.
     */
    default <T> T putClean(ChunkKey key, String etag, ByteBuffer data, Supplier<T> alongside) {
        return putClean(List.of(new CleanChunk(key, etag, data)), alongside);
    }

    /**
     * Stores several chunks as {@link #putClean(ChunkKey, String, ByteBuffer, Supplier)} does, all of
     * them and {@code alongside} in one transaction (one commit); dirty ones are skipped. With no
     * chunks it runs {@code alongside} alone as one transaction. The keys must differ.
     */
    <T> T putClean(List<CleanChunk> chunks, Supplier<T> alongside);

    /** A chunk fetched from the bucket for version {@code etag}, to store with {@link #putClean(List, Supplier)}. */
    record CleanChunk(ChunkKey key, String etag, ByteBuffer data) {
    }

    /**
     * Starts a chunk fetched from the bucket for version {@code etag} whose bytes come in pieces, as
     * from a response body: they go to local disk as they are given, so no buffer of a whole chunk is
     * needed, and no lock of the chunk is held meanwhile. Nothing is stored until
     * {@link CleanChunkWriter#store}; a writer closed without it leaves nothing behind.
     */
    CleanChunkWriter storeClean(ChunkKey key, String etag);

    /** The bytes of one clean chunk on their way into the store ({@link ChunkStore#storeClean}); for one thread. */
    interface CleanChunkWriter extends AutoCloseable {

        /** Adds the bytes {@code data} has left, after the ones given so far; no more than a chunk in all. */
        void append(ByteBuffer data);

        /** Stores the bytes given as {@link ChunkStore#putClean(ChunkKey, String, ByteBuffer)} would; appends end. */
        void store();

        /** Drops what was given unless it was stored. */
        @Override
        void close();
    }

    /**
     * Writes into a chunk and marks it dirty; when this returns the write survives a crash of the
     * process (not yet a power cut: see {@link #force}). Bytes of a chunk that was absent and are not
     * written read as zeros: to change part of a remote chunk, fetch it first.
     *
     * @throws CacheFullException when the dirty limit or the disk stays short of room for longer than
     *     the allowed wait, or at once when nothing {@linkplain #roomMadeBy could make room}
     */
    void write(ChunkKey key, int offset, ByteBuffer data);

    /**
     * How a write that waits for room learns whether anything could still make some: an upload, a
     * deletion or a part being sent, running or due. Dirty chunks of files still open for writing
     * wait for their close, and a writer blocked in a write cannot close. So a write finding no room
     * while nothing could make any (for a moment, so that a close under way counts) fails at once
     * instead of waiting out its time, as a full local disk answers. Until this is called, the store
     * assumes something could.
     */
    void roomMadeBy(BooleanSupplier somethingUnderway);

    /** Makes the file {@code size} bytes long: chunks past it are dropped, the last one is cut (dirty). */
    void truncate(long fileId, long size);

    /**
     * Flushes the bytes of a file's dirty chunks to stable storage (fsync). What records them becomes
     * durable with the next durable write of the journal ({@link UploadJournal#scheduleUpload}), which
     * a close or fsync makes right after: the bytes are on disk before any entry that refers to them.
     */
    void force(long fileId);

    /**
     * The dirty chunks of a file with their generation: each write to a chunk raises it, so an upload
     * can tell whether a chunk changed while it was being sent. Lengths come from {@link #length}.
     */
    Map<Integer, Long> dirtyChunks(long fileId);

    /**
     * A dirty chunk's bytes, as of {@code generation}, went out as a part of an upload still open (a new
     * file streamed while it is written): they stop counting toward the dirty limit, so a file bigger
     * than the limit can stream through the cache. The chunk stays dirty and is never evicted. It
     * counts again once it is written, cut or dropped, or by {@link #countSentParts}. Ignored when the
     * chunk is not dirty or was written after {@code generation}.
     */
    void sentAsPart(ChunkKey key, long generation);

    /** A file's chunks {@linkplain #sentAsPart sent as parts} count toward the dirty limit again: their upload ended or was given up. */
    void countSentParts(long fileId);

    /** The number of bytes a chunk holds, or -1 when it is absent. */
    int length(ChunkKey key);

    /**
     * After an upload made version {@code newEtag} of the file from the given chunk generations plus
     * version {@code baseEtag} elsewhere: dirty chunks not written since become clean copies of
     * {@code newEtag}, clean copies of {@code baseEtag} are relabelled {@code newEtag} (their bytes are
     * the same), and clean chunks of any other version are dropped. Chunks written since stay dirty.
     *
     * @param baseEtag the version the upload was based on, {@code null} for a new object
     */
    void markUploaded(long fileId, String baseEtag, String newEtag, Map<Integer, Long> uploadedGenerations);

    /** Forgets every chunk of a file (deleted, or replaced by a remote version), dirty ones included. */
    void drop(long fileId);

    /** Pinned files' chunks are never evicted (files kept for offline use, files open for reading). */
    void pin(long fileId, boolean pinned);

    /**
     * When the cache is over its limits, evicts clean, unpinned chunks, least recently used first,
     * until it is under them again; else returns at once.
     */
    void evict();

    /** Bytes held: all chunks, and the dirty ones not {@linkplain #sentAsPart sent as parts}. */
    Usage usage();

    record Usage(long totalBytes, long dirtyBytes, long chunks, long dirtyChunks) {
    }
}
