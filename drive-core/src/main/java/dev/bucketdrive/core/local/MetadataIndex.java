package dev.bucketdrive.core.local;

import java.util.List;
import java.util.Optional;

/**
 * The namespace as the drive last knew it, persistent, so that a remount serves a tree it has seen
 * without listing the bucket again (and revalidates in the background).
 */
public interface MetadataIndex {

    Optional<Entry> lookup(String path);

    Optional<Entry> byId(long id);

    /**
     * Inserts or replaces the entry at {@code entry.path()}. An existing entry keeps its id (the id of
     * {@code entry} is ignored); a new one gets a fresh id. Returns the entry as stored.
     */
    Entry upsert(Entry entry);

    /** The children of a directory, in name order. */
    List<Entry> children(String directory);

    /** Removes an entry and, for a directory, everything below it. Returns how many were removed. */
    int remove(String path);

    /** Moves an entry and everything below it to a new path; ids stay. Replaces what was at the target. */
    void rename(String from, String to);

    /** Records that a directory's listing was merged from the bucket at {@code epochMillis}. */
    void markListed(String directory, long epochMillis);
}
