package dev.bucketdrive.mount;

import dev.bucketdrive.core.attrs.PosixAttributes;
import dev.bucketdrive.core.vfs.DirectoryEntry;
import dev.bucketdrive.core.vfs.Drive;
import dev.bucketdrive.core.vfs.FileAttributes;
import dev.bucketdrive.core.vfs.FsError;
import dev.bucketdrive.core.vfs.FsException;
import dev.bucketdrive.core.vfs.VolumeStats;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.cryptomator.jfuse.api.TimeSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/**
 * The FUSE operations of a mount: each turns its native arguments into one {@link Drive} call and the
 * result into a status code. No caching, retries or policy here; the one state kept is the listing an
 * open directory's reads go through (FUSE reads a directory by offsets). Every callback ends in
 * {@link #call}, which catches {@code Throwable}: an exception escaping an FFM upcall kills the JVM.
 */
final class BucketFileSystem implements FuseOperations {

    private static final Logger LOG = LoggerFactory.getLogger(BucketFileSystem.class);
    /** WinFsp's FUSE capability bit for a case-insensitive file system. */
    static final int WINFSP_CAP_CASE_INSENSITIVE = 1 << 29;
    /** Linux renameat2 flags. */
    static final int RENAME_NOREPLACE = 1;
    static final int RENAME_EXCHANGE = 2;
    /** What libfuse can move in one request (256 pages); a larger st_blksize would only be split again. */
    static final long MAX_PREFERRED_IO_SIZE = 1 << 20;

    private final Drive drive;
    private final Errno errno;
    private final boolean windows;
    /** The name libfuse hides an open file under (fuse.c, hidden_name): node id and counter in hex. */
    private static final Pattern HIDDEN_NAME = Pattern.compile("\\.fuse_hidden[0-9a-f]{16}");
    /** Handles of ours on unlinked files, by the hidden name libfuse knows each under (see rename). */
    private final Map<String, Long> hidden = new ConcurrentHashMap<>();
    private final LongAdder failures = new LongAdder();
    /**
     * Directory handles count down from -1, so a callback that takes a positive handle for an open
     * file's never mistakes one for it; each maps to the listing its reads go through (see
     * {@link #readdir}).
     */
    private final AtomicLong lastDirectoryHandle = new AtomicLong();
    private final Map<Long, List<DirectoryEntry>> openListings = new ConcurrentHashMap<>();
    /** The {@code st_blksize} every stat reports (see {@link PreferredIoSize}); 0 until init. */
    private volatile long preferredIoSize;

    BucketFileSystem(Drive drive, Errno errno, boolean windows) {
        this.drive = drive;
        this.errno = errno;
        this.windows = windows;
    }

    long unexpectedFailures() {
        return failures.sum();
    }

    /** How many directory handles keep a listing (for tests: each goes at its releasedir). */
    int listingsKept() {
        return openListings.size();
    }

    @Override
    public Errno errno() {
        return errno;
    }

    @Override
    public Set<Operation> supportedOperations() {
        return EnumSet.of(Operation.INIT, Operation.GET_ATTR, Operation.READ_DIR, Operation.OPEN_DIR,
                Operation.RELEASE_DIR, Operation.OPEN, Operation.CREATE, Operation.READ, Operation.WRITE,
                Operation.FLUSH, Operation.FSYNC, Operation.FSYNCDIR, Operation.RELEASE, Operation.TRUNCATE,
                Operation.RENAME, Operation.UNLINK, Operation.MKDIR, Operation.RMDIR, Operation.SYMLINK,
                Operation.READLINK, Operation.CHMOD, Operation.CHOWN, Operation.UTIMENS, Operation.STATFS, Operation.DESTROY);
    }

    /** Runs a callback's body; a failure ends in {@link #failed}. */
    int call(String operation, String path, IntSupplier body) {
        try {
            return body.getAsInt();
        } catch (Throwable t) {
            return failed(operation, path, t);
        }
    }

    /** The one place every callback's failure ends: a negative errno, logged by how unexpected it is. */
    private int failed(String operation, String path, Throwable t) {
        FsError error = FsException.errorOf(t);
        if (error == FsError.IO && !(t instanceof FsException)) {
            failures.increment();
            LOG.warn("{} {} failed unexpectedly: {}", operation, path, t.toString());
            LOG.debug("{} {} failure", operation, path, t);
        } else if (error.isFailure()) {
            LOG.warn("{} {}: {}", operation, path, t.getMessage());
        } else {
            LOG.debug("{} {}: {}", operation, path, t.getMessage());
        }
        return -ErrnoMap.of(error, errno);
    }

    @Override
    public void init(FuseConnInfo conn, FuseConfig config) {
        try {
            int want = conn.want();
            if ((conn.capable() & FuseConnInfo.FUSE_CAP_READDIRPLUS) != 0) {
                want |= FuseConnInfo.FUSE_CAP_READDIRPLUS;
            }
            if (windows && drive.options().caseInsensitive()) {
                want |= WINFSP_CAP_CASE_INSENSITIVE;
            }
            conn.setWant(want);
            preferredIoSize = preferredIoSize(Integer.toUnsignedLong(conn.maxWrite()));
            LOG.debug("FUSE connection: capable {} want {} max_write {} max_read {} max_readahead {} max_background {}",
                    Integer.toHexString(conn.capable()), Integer.toHexString(want), conn.maxWrite(), conn.maxRead(),
                    conn.maxReadahead(), conn.maxBackground());
        } catch (Throwable t) {
            LOG.warn("init: {}", t.toString());
        }
    }

    @Override
    public void destroy() {
        // The CLI closes the drive after the mount ends; nothing to do in the FUSE thread.
    }

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        return call("getattr", path, () -> {
            Long hiddenFh = hidden.isEmpty() || fi != null ? null : hidden.get(path);
            FileAttributes a = fi != null && fi.getFh() > 0 ? drive.getattr(fi.getFh())
                    : hiddenFh != null ? drive.getattr(hiddenFh) : drive.getattr(path);
            fill(stat, a);
            return 0;
        });
    }

    /** The largest power of two up to {@code maxWrite} and 1 MiB; 0 (the kernel's default) below a page. */
    static long preferredIoSize(long maxWrite) {
        long size = Long.highestOneBit(Math.min(maxWrite, MAX_PREFERRED_IO_SIZE));
        return size >= 4096 ? size : 0;
    }

    private void fill(Stat stat, FileAttributes a) {
        stat.setMode(a.mode());
        stat.setUid(a.uid());
        stat.setGid(a.gid());
        stat.setSize(a.size());
        stat.setNLink((short) a.links());
        Instant mtime = Instant.ofEpochMilli(a.mtimeMillis());
        stat.mTime().set(mtime);
        stat.cTime().set(mtime);
        stat.aTime().set(mtime);
        stat.birthTime().set(mtime);
        long ioSize = preferredIoSize;
        if (ioSize > 0) {
            PreferredIoSize.set(stat, ioSize);
        }
    }

    @Override
    public int opendir(String path, FileInfo fi) {
        return call("opendir", path, () -> {
            if (!drive.getattr(path).isDirectory()) {
                return -errno.enotdir();
            }
            fi.setFh(lastDirectoryHandle.decrementAndGet());
            return 0;
        });
    }

    /**
     * Gives the names from {@code offset} on, each with its position as the offset to go on from, until
     * the kernel's buffer is full. Entries whose attributes are known go with them (readdirplus), so
     * {@code ls -l} or a copy needs no lookup per name; libfuse passes attributes to the kernel only with
     * such offsets (3.14, Debian 12's, drops them when every offset is 0). The listing taken at offset 0 is
     * kept under the directory handle for the reads that go on from it, so a name neither added nor
     * removed meanwhile shows exactly once.
     */
    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        return call("readdir", path, () -> {
            long dh = fi != null ? fi.getFh() : 0;
            List<DirectoryEntry> entries = offset == 0 || dh >= 0 ? null : openListings.get(dh);
            if (entries == null) {
                entries = drive.readdir(path);
                if (dh < 0) {
                    openListings.put(dh, entries);
                }
            }
            boolean plus = (flags & FuseOperations.FUSE_READDIR_PLUS) != 0;
            long position = Math.max(offset, 0);
            int full = 0;
            while (full == 0 && position < entries.size() + 2) {
                position++;
                if (position <= 2) {
                    full = filler.fill(position == 1 ? "." : "..", stat -> stat.setMode(PosixAttributes.S_IFDIR), position, 0);
                } else {
                    DirectoryEntry e = entries.get((int) position - 3);
                    full = plus && e.attributesKnown()
                            ? filler.fill(e.name(), stat -> fill(stat, e.attributes()), position, DirFiller.FUSE_FILL_DIR_PLUS)
                            // The type alone (d_type); the kernel asks getattr for the rest when it needs it.
                            : filler.fill(e.name(), stat -> stat.setMode(e.attributes().mode() & PosixAttributes.S_IFMT), position, 0);
                }
            }
            return 0;
        });
    }

    @Override
    public int releasedir(String path, FileInfo fi) {
        return call("releasedir", path, () -> {
            if (fi != null) {
                openListings.remove(fi.getFh());
            }
            return 0;
        });
    }

    @Override
    public int open(String path, FileInfo fi) {
        return call("open", path, () -> {
            fi.setFh(drive.open(path, fi.getOpenFlags()));
            return 0;
        });
    }

    @Override
    public int create(String path, int mode, FileInfo fi) {
        return call("create", path, () -> {
            Set<StandardOpenOption> flags = new HashSet<>(fi.getOpenFlags());
            flags.add(StandardOpenOption.CREATE);
            fi.setFh(drive.create(path, mode, flags));
            return 0;
        });
    }

    @Override
    public int read(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
        // Not through call: a lambda that captures costs an allocation through a method handle under
        // the quick compiler the launcher runs (about 30 ns), and a cached 4 KiB read is about 25 µs in all.
        try {
            ByteBuffer dst = buf.slice(buf.position(), (int) Math.min(count, buf.remaining()));
            return drive.read(fi.getFh(), dst, offset);
        } catch (Throwable t) {
            return failed("read", path, t);
        }
    }

    @Override
    public int write(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
        try { // not through call, as read
            ByteBuffer src = buf.slice(buf.position(), (int) Math.min(count, buf.remaining()));
            return drive.write(fi.getFh(), src, offset);
        } catch (Throwable t) {
            return failed("write", path, t);
        }
    }

    @Override
    public int flush(String path, FileInfo fi) {
        return call("flush", path, () -> {
            drive.flush(fi.getFh());
            return 0;
        });
    }

    @Override
    public int fsync(String path, int datasync, FileInfo fi) {
        return call("fsync", path, () -> {
            drive.fsync(fi.getFh());
            return 0;
        });
    }

    @Override
    public int fsyncdir(String path, int datasync, FileInfo fi) {
        return call("fsyncdir", path, () -> {
            drive.fsyncDirectory(path);
            return 0;
        });
    }

    @Override
    public int release(String path, FileInfo fi) {
        return call("release", path, () -> {
            drive.release(fi.getFh());
            return 0;
        });
    }

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        return call("truncate", path, () -> {
            drive.truncate(path, fi != null && fi.getFh() > 0 ? fi.getFh() : -1, size);
            return 0;
        });
    }

    @Override
    public int rename(String oldPath, String newPath, int flags) {
        return call("rename", oldPath, () -> {
            if ((flags & RENAME_EXCHANGE) != 0) {
                return -errno.enotsup();
            }
            if (!windows && flags == 0 && hidesAnOpenFile(oldPath, newPath)) {
                // The drive keeps an unlinked file for its open handles itself. libfuse asks for the
                // file's attributes under the hidden name (fstat), so a handle of ours answers there
                // until libfuse unlinks that name.
                long fh = drive.open(oldPath, Set.of());
                try {
                    drive.unlink(oldPath);
                } catch (RuntimeException e) {
                    drive.release(fh);
                    throw e;
                }
                hidden.put(newPath, fh);
                return 0;
            }
            drive.rename(oldPath, newPath, (flags & RENAME_NOREPLACE) != 0);
            for (String name : hidden.keySet()) { // libfuse moves hidden names with their directory
                if (name.startsWith(oldPath + "/")) {
                    hidden.put(newPath + name.substring(oldPath.length()), hidden.remove(name));
                }
            }
            return 0;
        });
    }

    /**
     * Whether libfuse asks this rename in place of an unlink of an open file (or before a rename over
     * one): it renames the file to {@code .fuse_hidden} and 16 hex digits in its directory and unlinks
     * that name at the last release. The option that turns this off ({@code hard_remove}) is no longer
     * a mount option in libfuse 3, and jfuse's init cannot set it; done as asked, the hidden name would
     * be listed, copied in the bucket, and left there by a crash while the file was open.
     */
    static boolean hidesAnOpenFile(String oldPath, String newPath) {
        int slash = newPath.lastIndexOf('/');
        return HIDDEN_NAME.matcher(newPath).region(slash + 1, newPath.length()).matches()
                && oldPath.lastIndexOf('/') == slash && oldPath.startsWith(newPath.substring(0, slash + 1));
    }

    @Override
    public int unlink(String path) {
        return call("unlink", path, () -> {
            Long fh = hidden.remove(path);
            if (fh != null) {
                drive.release(fh);
                return 0;
            }
            drive.unlink(path);
            return 0;
        });
    }

    @Override
    public int mkdir(String path, int mode) {
        return call("mkdir", path, () -> {
            drive.mkdir(path, mode);
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return call("rmdir", path, () -> {
            drive.rmdir(path);
            return 0;
        });
    }

    @Override
    public int symlink(String target, String linkPath) {
        return call("symlink", linkPath, () -> {
            drive.symlink(target, linkPath);
            return 0;
        });
    }

    @Override
    public int readlink(String path, ByteBuffer buf, long len) {
        return call("readlink", path, () -> {
            byte[] target = drive.readlink(path).getBytes(StandardCharsets.UTF_8);
            int room = (int) Math.min(len, buf.remaining()) - 1;
            if (room < 0) {
                return -errno.einval();
            }
            int n = Math.min(room, target.length);
            ByteBuffer out = buf.slice(buf.position(), n + 1);
            out.put(target, 0, n).put((byte) 0);
            return 0;
        });
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        return call("chmod", path, () -> {
            drive.chmod(path, mode);
            return 0;
        });
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        return call("chown", path, () -> {
            drive.chown(path, uid, gid);
            return 0;
        });
    }

    @Override
    public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
        return call("utimens", path, () -> {
            Long millis = mtime.isUtimeOmit() ? null
                    : mtime.isUtimeNow() ? Long.valueOf(System.currentTimeMillis()) : Long.valueOf(mtime.get().toEpochMilli());
            drive.utimens(path, millis);
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        return call("statfs", path, () -> {
            VolumeStats s = drive.statfs();
            statvfs.setBsize(s.blockSize());
            statvfs.setFrsize(s.blockSize());
            statvfs.setBlocks(s.totalBlocks());
            statvfs.setBfree(s.freeBlocks());
            statvfs.setBavail(s.freeBlocks());
            statvfs.setNameMax(s.maxNameLength());
            return 0;
        });
    }
}
