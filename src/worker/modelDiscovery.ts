// The models on this machine, for the panel's Choose Model… pick: the engine's discovery, reached through the
// worker layer as the layer rules ask (the panel imports the worker and shared/ only). Discovery reads file
// headers only, so it runs on the calling thread.
export {
  DEFAULT_MODEL_NAME,
  GGUF_ARCHITECTURES,
  defaultStoreEnv,
  discoverModels,
  type DiscoveredModel,
  type DiscoveredSource,
} from '../engine/inspectApi';
