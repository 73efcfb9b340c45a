package dev.bucketdrive.cache;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where sqlite-jdbc puts its native library. By default it copies the library into the temporary
 * directory under a new name at every start and deletes the copy at a normal exit, so each process
 * that is killed (kill -9, the OOM killer, a crash) leaves 1.1 MB there for good: its own cleanup
 * spares a copy whose {@code .lck} file is still there, and a killed process leaves that as well.
 * The copies go instead to a directory of this user's inside the temporary directory (the same file
 * system, so the library loads wherever it did before), from which copies older than
 * {@link #STALE_AFTER} are removed before the library loads. A process that started that long ago
 * has loaded its copy, and a loaded library stays mapped when its file goes (Linux, macOS; on
 * Windows the delete of a loaded one fails and is skipped). A directory that is not a private one
 * of this user's is left alone, and the default kept.
 */
final class SqliteNativeLibrary {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteNativeLibrary.class);
    static final Duration STALE_AFTER = Duration.ofMinutes(10);
    private static final String PROPERTY = "org.sqlite.tmpdir";
    private static boolean prepared;

    private SqliteNativeLibrary() {
    }

    /** Before the first connection in this process: chooses and cleans the directory (once). */
    static synchronized void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        if (System.getProperty(PROPERTY) != null || System.getProperty("org.sqlite.lib.path") != null) {
            return; // chosen by whoever runs us
        }
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "bucketdrive-sqlite-" + System.getProperty("user.name"));
        try {
            if (!privateDirectory(dir)) {
                LOG.debug("{} is not a private directory of this user's; sqlite-jdbc keeps its default", dir);
                return;
            }
            removeOlderThan(dir, Instant.now().minus(STALE_AFTER));
            System.setProperty(PROPERTY, dir.toString());
        } catch (IOException | RuntimeException e) {
            LOG.debug("sqlite-jdbc keeps its default directory: {}", e.toString());
        }
    }

    /** Makes {@code dir} if missing; whether it is a directory (not a link) only its owner, this user, may use. */
    static boolean privateDirectory(Path dir) throws IOException {
        LocalFiles.createPrivateDirectories(dir);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (!LocalFiles.POSIX) {
            return true; // Windows: the temporary directory is the user's own
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return a.owner().getName().equals(System.getProperty("user.name"))
                && PosixFilePermissions.toString(a.permissions()).equals("rwx------");
    }

    /** Deletes the files in {@code dir} last modified before {@code before}; how many went. */
    static int removeOlderThan(Path dir, Instant before) throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!a.isDirectory() && a.lastModifiedTime().toInstant().isBefore(before)) {
                    try {
                        Files.delete(f);
                        removed++;
                    } catch (IOException e) {
                        LOG.debug("cannot remove {}: {}", f, e.toString()); // in use (Windows)
                    }
                }
            }
        }
        return removed;
    }
}
