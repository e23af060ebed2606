/** The hub room: model folders and dataset files from local paths, the HF cache or the hub. */
export { resolveModelDir } from './model.js';
export { resolveDatasetFiles, type DatasetFilesOptions } from './dataset.js';
export { downloadToCache, fetchFileMetadata, resolveUrl, type CachedFile, type FileMetadata } from './download.js';
export { listRepoFiles, type RemoteFile } from './list.js';
export { selectSplitFiles, configsIn, DATA_EXTENSIONS, type SplitQuery } from './split-files.js';
export {
  defaultHubCacheDir,
  isRepoId,
  repoFolderName,
  resolveHubOptions,
  type HubOptions,
  type ResolvedHubOptions,
  type DownloadProgress,
  type RepoType,
} from './env.js';
export { RepoCache, listFilesRecursive } from './cache.js';
export { HubError } from './errors.js';
