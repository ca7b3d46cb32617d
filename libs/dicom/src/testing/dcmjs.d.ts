// dcmjs ships no type declarations; this covers the part the test data generator uses.
declare module 'dcmjs' {
  type NaturalDataset = Record<string, unknown>;
  interface DicomDictInstance {
    dict: Record<string, unknown>;
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: new (meta: Record<string, unknown>) => DicomDictInstance;
      DicomMetaDictionary: {
        denaturalizeDataset(dataset: NaturalDataset): Record<string, unknown>;
        uid(): string;
      };
    };
  };
  export default dcmjs;
}
