package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.local.Entry;

/**
 * The in-memory state of a file or directory that is in use (open, or being changed by a call). It
 * exists from the first acquire to the last release; in between it is the truth for size and
 * attributes, and the index is brought up to date when it is persisted. Fields are guarded by the
 * node's monitor; no I/O to the bucket happens under it.
 */
final class Node {
    final long id;
    final Entry.Type type;
    /** The index path; updated by rename; kept (but meaningless) once unlinked. */
    String path;
    long size;
    int mode;
    int uid;
    int gid;
    long mtimeMillis;
    /** The remote version missing chunks come from; null when no remote bytes belong to the file. */
    String etag;
    /** How many bytes of {@link #etag}'s object may still be fetched. */
    long remoteLimit;
    /** Changed since it was last persisted (content or attributes). */
    boolean changed;
    /** Content or size changed since the last persist that fsync'd it. */
    boolean contentChanged;
    /** The name is gone (unlinked or renamed over): the data lives until the last release. */
    boolean unlinked;
    /** Handles open for writing. */
    int writers;
    /** Its upload came due while it was open for writing and waits for the last writer's release. */
    boolean uploadDeferred;
    /** An fsync waits: the upload may run although the file is open for writing. */
    boolean syncWanted;
    /** Acquisitions: open handles plus calls in progress. Changed only inside the node map's compute. */
    volatile int users;

    Node(Entry e) {
        this.id = e.id();
        this.type = e.type();
        this.path = e.path();
        this.size = e.size();
        this.mode = e.mode();
        this.uid = e.uid();
        this.gid = e.gid();
        this.mtimeMillis = e.mtimeMillis();
        this.etag = e.remoteVersion();
        this.remoteLimit = this.etag == null ? 0 : Math.min(e.remoteSize(), e.size());
    }

    /** Where the bytes not in the cache come from: version {@code etag}, below {@code limit}. */
    record Source(String etag, long limit) {
    }

    synchronized Source source() {
        return new Source(etag, remoteLimit);
    }

    /** The entry to store for this node, keeping what only the index knows (listing time). */
    synchronized Entry toEntry(long listedAt) {
        return new Entry(id, path, type, size, mtimeMillis, mode, uid, gid, etag, listedAt, etag == null ? 0 : remoteLimit);
    }
}
