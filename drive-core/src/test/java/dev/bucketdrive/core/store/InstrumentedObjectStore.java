package dev.bucketdrive.core.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Wraps any {@link ObjectStore} to count calls and bytes per operation and to inject faults and
 * latency, so tests can assert "a cached read makes 0 GETs" or "an outage of 3 calls is survived".
 */
public final class InstrumentedObjectStore implements ObjectStore {

    public enum Op {
        HEAD, GET, PUT, CREATE_MULTIPART, UPLOAD_PART, UPLOAD_PART_COPY, COMPLETE_MULTIPART,
        ABORT_MULTIPART, COPY, DELETE, DELETE_BATCH, LIST
    }

    private final ObjectStore delegate;
    private final Map<Op, AtomicLong> calls = new EnumMap<>(Op.class);
    private final Map<Op, AtomicLong> running = new EnumMap<>(Op.class);
    private final Map<Op, AtomicLong> mostAtOnce = new EnumMap<>(Op.class);
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final Object faultLock = new Object();
    private Op faultOp;
    private int faultsLeft;
    private StoreException.Kind faultKind;
    private volatile Duration latency = Duration.ZERO;
    private final Map<Op, Runnable> beforeNext = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Op, Runnable> afterNext = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile java.util.function.Consumer<ListCall> beforeEachList;
    private volatile java.util.function.Consumer<Get> beforeEachGet;
    private final java.util.Queue<Get> gets = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.Queue<BodyCut> bodyCuts = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** A GET's body that breaks off after {@code afterBytes} (see {@link #cutBody}). */
    private record BodyCut(java.util.function.Predicate<Get> which, long afterBytes) {
    }

    /** One GET asked for: the range of {@code key} from {@code offset}, {@code length} bytes. */
    public record Get(String key, long offset, long length) {
    }

    public InstrumentedObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
        for (Op op : Op.values()) {
            calls.put(op, new AtomicLong());
            running.put(op, new AtomicLong());
            mostAtOnce.put(op, new AtomicLong());
        }
    }

    /** Calls made of {@code op}, failed ones included. */
    public long calls(Op op) {
        return calls.get(op).get();
    }

    /** How many calls of {@code op} are running now. */
    public long running(Op op) {
        return running.get(op).get();
    }

    /** The most calls of {@code op} that were in progress at one time. */
    public long mostAtOnce(Op op) {
        return mostAtOnce.get(op).get();
    }

    public long totalCalls() {
        return calls.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Body bytes handed to PUT and UploadPart (UploadPartCopy and copy send none). */
    public long bytesSent() {
        return bytesSent.get();
    }

    /** Bytes returned by GET. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** The GETs asked for since the last {@link #resetCounters}, failed ones included, in the order they came. */
    public List<Get> gets() {
        return List.copyOf(gets);
    }

    public void resetCounters() {
        gets.clear();
        calls.values().forEach(c -> c.set(0));
        mostAtOnce.values().forEach(c -> c.set(0));
        bytesSent.set(0);
        bytesReceived.set(0);
    }

    /** The next {@code count} calls of {@code op} ({@code null}: of any operation) fail with {@code kind}. */
    public void failNext(Op op, int count, StoreException.Kind kind) {
        synchronized (faultLock) {
            faultOp = op;
            faultsLeft = count;
            faultKind = kind;
        }
    }

    /** Every call waits this long before it runs. */
    public void latency(Duration latency) {
        this.latency = latency;
    }

    /**
     * The next call of {@code op} first runs {@code hook} in the caller's thread, so a test can hold
     * it (on a latch) while other things happen.
     */
    public void beforeNext(Op op, Runnable hook) {
        beforeNext.put(op, hook);
    }

    /**
     * The next call of {@code op} that succeeds runs {@code hook} in the caller's thread after the
     * store answered and before the caller sees the answer: the answer is then older than whatever
     * the hook did.
     */
    public void afterNext(Op op, Runnable hook) {
        afterNext.put(op, hook);
    }

    private <T> T call(Op op, Supplier<T> action) {
        calls.get(op).incrementAndGet();
        long now = running.get(op).incrementAndGet();
        mostAtOnce.get(op).accumulateAndGet(now, Math::max);
        try {
            return timedCall(op, action);
        } finally {
            running.get(op).decrementAndGet();
        }
    }

    private <T> T timedCall(Op op, Supplier<T> action) {
        Runnable before = beforeNext.remove(op);
        if (before != null) {
            before.run();
        }
        Duration wait = latency;
        if (!wait.isZero()) {
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException(StoreException.Kind.TRANSIENT, "interrupted", e);
            }
        }
        synchronized (faultLock) {
            if (faultsLeft > 0 && (faultOp == null || faultOp == op)) {
                faultsLeft--;
                throw new StoreException(faultKind, "injected fault in " + op);
            }
        }
        T result = action.get();
        Runnable after = afterNext.remove(op);
        if (after != null) {
            after.run();
        }
        return result;
    }

    private void run(Op op, Runnable action) {
        call(op, () -> {
            action.run();
            return null;
        });
    }

    @Override
    public ObjectInfo head(String key) {
        return call(Op.HEAD, () -> delegate.head(key));
    }

    @Override
    public <T> T read(String key, long offset, long length, String ifMatch, BodyReader<T> reader) {
        Get get = new Get(key, offset, length);
        gets.add(get);
        java.util.function.Consumer<Get> hook = beforeEachGet;
        if (hook != null) {
            hook.accept(get);
        }
        BodyCut cut = bodyCuts.stream().filter(c -> c.which().test(get)).findFirst()
                .filter(bodyCuts::remove).orElse(null);
        long[] left = {cut == null ? Long.MAX_VALUE : cut.afterBytes()};
        return call(Op.GET, () -> delegate.read(key, offset, length, ifMatch, (object, n, body) ->
                reader.read(object, n, new FilterInputStream(body) {
                    @Override
                    public int read() throws IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                    }

                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                        if (left[0] <= 0 && len > 0) {
                            throw new IOException("injected: the body of " + get + " broke off");
                        }
                        int got = super.read(buf, off, (int) Math.min(len, left[0]));
                        if (got > 0) {
                            bytesReceived.addAndGet(got);
                            left[0] -= got;
                        }
                        return got;
                    }
                })));
    }

    /**
     * The next GET that {@code which} picks gets a body that breaks off with an I/O error after
     * {@code afterBytes} bytes (as a connection that drops half-way). Several cuts may wait at once.
     */
    public void cutBody(java.util.function.Predicate<Get> which, long afterBytes) {
        bodyCuts.add(new BodyCut(which, afterBytes));
    }

    /** How many cuts {@link #cutBody} asked for have not met their GET yet. */
    public int bodyCutsLeft() {
        return bodyCuts.size();
    }

    @Override
    public String put(String key, Body body, PutOptions options) {
        return call(Op.PUT, () -> {
            String etag = delegate.put(key, body, options);
            bytesSent.addAndGet(body.length());
            return etag;
        });
    }

    @Override
    public MultipartUpload createMultipart(String key, PutOptions options) {
        return call(Op.CREATE_MULTIPART, () -> delegate.createMultipart(key, options));
    }

    @Override
    public CompletedPart uploadPart(MultipartUpload upload, int partNumber, Body body) {
        return call(Op.UPLOAD_PART, () -> {
            CompletedPart part = delegate.uploadPart(upload, partNumber, body);
            bytesSent.addAndGet(body.length());
            return part;
        });
    }

    @Override
    public CompletedPart uploadPartCopy(MultipartUpload upload, int partNumber, String sourceKey,
                                        String sourceIfMatch, long offset, long length) {
        return call(Op.UPLOAD_PART_COPY,
                () -> delegate.uploadPartCopy(upload, partNumber, sourceKey, sourceIfMatch, offset, length));
    }

    @Override
    public String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition condition) {
        return call(Op.COMPLETE_MULTIPART, () -> delegate.completeMultipart(upload, parts, condition));
    }

    @Override
    public void abortMultipart(MultipartUpload upload) {
        run(Op.ABORT_MULTIPART, () -> delegate.abortMultipart(upload));
    }

    @Override
    public String copy(String sourceKey, String targetKey, CopyOptions options) {
        return call(Op.COPY, () -> delegate.copy(sourceKey, targetKey, options));
    }

    @Override
    public void delete(String key) {
        run(Op.DELETE, () -> delegate.delete(key));
    }

    @Override
    public Map<String, StoreException> deleteAll(Collection<String> keys) {
        return call(Op.DELETE_BATCH, () -> delegate.deleteAll(keys));
    }

    @Override
    public ListPage list(String prefix, String delimiter, String continuationToken, String startAfter, int maxKeys) {
        java.util.function.Consumer<ListCall> hook = beforeEachList;
        if (hook != null) {
            hook.accept(new ListCall(prefix, delimiter, continuationToken));
        }
        return call(Op.LIST, () -> delegate.list(prefix, delimiter, continuationToken, startAfter, maxKeys));
    }

    /** A LIST asked for: its prefix, delimiter (null: flat) and continuation token (null: the first page). */
    public record ListCall(String prefix, String delimiter, String continuationToken) {
    }

    /**
     * Every GET from now on first runs {@code hook} in the caller's thread (null: none), after
     * {@link #gets} has it and before it counts as a call.
     */
    public void beforeEachGet(java.util.function.Consumer<Get> hook) {
        beforeEachGet = hook;
    }

    /** Every LIST from now on first runs {@code hook} in the caller's thread (null: none). */
    public void beforeEachList(java.util.function.Consumer<ListCall> hook) {
        beforeEachList = hook;
    }

    @Override
    public void close() {
        delegate.close();
    }
}
