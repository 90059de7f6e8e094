namespace Functions.Storage;

public enum StorageService { Blob, Queue, Table }
