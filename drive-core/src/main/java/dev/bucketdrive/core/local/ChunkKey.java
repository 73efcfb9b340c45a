package dev.bucketdrive.core.local;

/**
 * One chunk of one file: bytes {@code [index * chunkSize, (index + 1) * chunkSize)}.
 *
 * @param fileId the file's id in the {@link MetadataIndex}: stable across renames, never reused
 */
public record ChunkKey(long fileId, int index) {
    public ChunkKey {
        if (fileId < 0 || index < 0) {
            throw new IllegalArgumentException("negative file id or index");
        }
    }

    // Written out: a record's own equals and hashCode go through method handles, which the quick
    // compiler the launcher runs does not inline; this key is looked up in several maps per read.

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkKey k && k.fileId == fileId && k.index == index;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fileId) * 31 + index;
    }
}
