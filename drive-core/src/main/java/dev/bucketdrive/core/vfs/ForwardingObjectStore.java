package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.BodyReader;
import dev.bucketdrive.core.store.CompletedPart;
import dev.bucketdrive.core.store.CopyOptions;
import dev.bucketdrive.core.store.ListPage;
import dev.bucketdrive.core.store.MultipartUpload;
import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.WriteCondition;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** An {@link ObjectStore} that passes every call to another; a subclass overrides what it watches. */
abstract class ForwardingObjectStore implements ObjectStore {

    protected final ObjectStore store;

    ForwardingObjectStore(ObjectStore store) {
        this.store = store;
    }

    @Override
    public ObjectInfo head(String key) {
        return store.head(key);
    }

    @Override
    public <T> T read(String key, long offset, long length, String ifMatch, BodyReader<T> reader) {
        return store.read(key, offset, length, ifMatch, reader);
    }

    @Override
    public String put(String key, Body body, PutOptions options) {
        return store.put(key, body, options);
    }

    @Override
    public MultipartUpload createMultipart(String key, PutOptions options) {
        return store.createMultipart(key, options);
    }

    @Override
    public CompletedPart uploadPart(MultipartUpload upload, int partNumber, Body body) {
        return store.uploadPart(upload, partNumber, body);
    }

    @Override
    public CompletedPart uploadPartCopy(MultipartUpload upload, int partNumber, String sourceKey,
                                       String sourceIfMatch, long offset, long length) {
        return store.uploadPartCopy(upload, partNumber, sourceKey, sourceIfMatch, offset, length);
    }

    @Override
    public String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition condition) {
        return store.completeMultipart(upload, parts, condition);
    }

    @Override
    public void abortMultipart(MultipartUpload upload) {
        store.abortMultipart(upload);
    }

    @Override
    public String copy(String sourceKey, String targetKey, CopyOptions options) {
        return store.copy(sourceKey, targetKey, options);
    }

    @Override
    public void delete(String key) {
        store.delete(key);
    }

    @Override
    public Map<String, StoreException> deleteAll(Collection<String> keys) {
        return store.deleteAll(keys);
    }

    @Override
    public ListPage list(String prefix, String delimiter, String continuationToken, String startAfter, int maxKeys) {
        return store.list(prefix, delimiter, continuationToken, startAfter, maxKeys);
    }

    @Override
    public void close() {
        store.close();
    }
}
