package dev.bucketdrive.mount;

import org.cryptomator.jfuse.api.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * Writes {@code st_blksize}, the preferred I/O size that cp, cat and most copy loops size their
 * buffers by. Left at zero, the kernel reports the page size and cp writes 128 KiB at a time, one FUSE
 * request each; at the negotiated {@code max_write} (1 MiB) a sequential write costs an eighth of the
 * requests. jfuse's {@link Stat} has no setter for it. On Linux jfuse's {@code Stat} is a
 * {@code struct stat} in native memory (a record of its segment) with generated accessors for every
 * field beside it, and those write it. Where that is not so (WinFsp, another jfuse layout, a module
 * path that does not open jfuse) nothing is written and the kernel's default holds; so a stat costs
 * one class lookup more and nothing breaks.
 */
final class PreferredIoSize {

    private static final Logger LOG = LoggerFactory.getLogger(PreferredIoSize.class);
    private static final MethodType SETTER = MethodType.methodType(void.class, Stat.class, long.class);
    private static final MethodHandle NONE = MethodHandles.empty(SETTER);

    private static final ClassValue<MethodHandle> SETTERS = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                return setterOf(type);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.debug("st_blksize of {} cannot be set, the kernel's default holds: {}", type.getName(),
                        e.toString());
                return NONE;
            }
        }
    };

    private PreferredIoSize() {
    }

    /** Sets {@code st_blksize} of {@code stat} to {@code bytes} where the platform's {@code Stat} allows it. */
    static void set(Stat stat, long bytes) {
        try {
            SETTERS.get(stat.getClass()).invokeExact(stat, bytes);
        } catch (Throwable t) {
            LOG.debug("st_blksize not set: {}", t.toString());
        }
    }

    /** Whether {@link #set} writes the field for this kind of {@code Stat}. */
    static boolean supported(Class<? extends Stat> type) {
        return SETTERS.get(type) != NONE;
    }

    /**
     * (Stat, long) → void: the record's {@code segment()} accessor into the generated
     * {@code extr.fuse3.stat.st_blksize(MemorySegment, long|int)} of the same jfuse package.
     */
    private static MethodHandle setterOf(Class<?> type) throws ReflectiveOperationException {
        Method segment = type.getMethod("segment");
        if (!type.isRecord() || segment.getReturnType() != MemorySegment.class) {
            return NONE;
        }
        segment.setAccessible(true);
        Class<?> layout = Class.forName(type.getPackageName() + ".extr.fuse3.stat", true, type.getClassLoader());
        Method field = null;
        for (Class<?> width : new Class<?>[] {long.class, int.class}) {
            try {
                field = layout.getMethod("st_blksize", MemorySegment.class, width);
                break;
            } catch (NoSuchMethodException e) {
                // the other width (aarch64's struct stat has an int st_blksize)
            }
        }
        if (field == null) {
            return NONE;
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle write = MethodHandles.explicitCastArguments(lookup.unreflect(field),
                MethodType.methodType(void.class, MemorySegment.class, long.class));
        MethodHandle segmentOf = lookup.unreflect(segment)
                .asType(MethodType.methodType(MemorySegment.class, Stat.class));
        return MethodHandles.filterArguments(write, 0, segmentOf);
    }
}
