package dev.bucketdrive.core.vfs;

/** An open file: the node it reaches and how it was opened. */
final class Handle {
    final Node node;
    final boolean readable;
    final boolean writable;
    final boolean append;
    /** Where the last read ended: a read starting here is sequential and earns read-ahead. */
    volatile long lastReadEnd = -1;
    /** Where the reader's current run of reads in order began: how far it got earns a wider read-ahead. */
    volatile long runStart;

    Handle(Node node, boolean readable, boolean writable, boolean append) {
        this.node = node;
        this.readable = readable;
        this.writable = writable;
        this.append = append;
    }
}
