package dev.bucketdrive.core.vfs;

import java.util.List;

/**
 * What {@code bucketdrive status} shows of a running drive.
 *
 * @param pendingUploads files (and directory markers) waiting to upload, including files still open
 * @param pendingSteps   deletes and copies (of renames) not done yet
 * @param failing        operations that failed at least once and wait for their next attempt
 * @param conflicts      conflict copies this mount made, newest last
 * @param recentErrors   the latest failures, newest last
 */
public record DriveStatus(int pendingUploads, int pendingSteps, int failing, long cacheBytes, long dirtyBytes,
                          List<String> conflicts, List<String> recentErrors) {
    public DriveStatus {
        conflicts = List.copyOf(conflicts);
        recentErrors = List.copyOf(recentErrors);
    }
}
