import { applySettingsUpdate, parseCreateSettings } from './collection-settings';

describe(parseCreateSettings.name, () => {
  it('keeps shard_number, replication_factor and write_consistency_factor, defaulting to 1', () => {
    expect(parseCreateSettings({ shard_number: 3, replication_factor: 2 }).params).toMatchObject({
      shard_number: 3,
      replication_factor: 2,
      write_consistency_factor: 1,
    });
  });

  it('answers 422 below 1 and 400 for values that are not unsigned 32-bit integers', () => {
    expect(() => parseCreateSettings({ replication_factor: 0 })).toThrow(
      'Validation error in JSON body: [replication_factor: value 0 invalid, must be 1 or larger]',
    );
    for (const bad of [-1, 1.5, '2', 4_294_967_296]) {
      expect(() => parseCreateSettings({ write_consistency_factor: bad })).toThrow('Format error in JSON body: write_consistency_factor');
    }
    expect(() => parseCreateSettings({ shard_number: 0 })).toThrow('[shard_number: value 0 invalid');
  });

  it('updates replication settings and optimizer config in place', () => {
    const settings = parseCreateSettings({});
    applySettingsUpdate(settings, { params: { replication_factor: 3 }, optimizers_config: { indexing_threshold: 100 } });
    expect(settings.params?.replication_factor).toBe(3);
    expect(settings.optimizer_config?.indexing_threshold).toBe(100);
    expect(() => applySettingsUpdate(settings, { params: { write_consistency_factor: 0 } })).toThrow('[params.write_consistency_factor');
  });
});
