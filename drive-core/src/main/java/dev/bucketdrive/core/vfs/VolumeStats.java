package dev.bucketdrive.core.vfs;

/**
 * What {@code statfs} shows. A bucket has no fixed size, so the drive reports a large capacity with the
 * bytes it knows of as used.
 */
public record VolumeStats(long blockSize, long totalBlocks, long freeBlocks, long files, int maxNameLength) {
}
