// dcmjs ships no type declarations; these cover the parts libs/dicom uses (the test data writer and the PS3.6 dictionary).
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

declare module 'dcmjs/dictionary' {
  export const dictionary: Record<
    string,
    { tag: string; vr: string; name: string; vm: string; version: string }
  >;
}
