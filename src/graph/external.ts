/**
 * A weight kept outside the ONNX protobuf (external data): where its bytes are. A module of its own,
 * free of onnx-proto, because the runtime's public types mention it.
 */
export interface ExternalWeight {
  name: string;
  dims: number[];
  offset: number;
  length: number;
}
