import { parseEpisodeQuery } from './retention.query.js';

describe('GET /v1/retention/episodes parameters', () => {
  it('defaults to the latest 100 episodes of every customer, open or not', () => {
    expect(parseEpisodeQuery({})).toEqual({ query: { limit: 100 } });
    expect(parseEpisodeQuery({ customerId: 'cus-1', open: 'false', limit: '500' })).toEqual({ query: { customerId: 'cus-1', open: false, limit: 500 } });
  });

  it('names every bad parameter', () => {
    expect(parseEpisodeQuery({ open: 'yes', limit: '501', customerId: ['a', 'b'] })).toEqual({
      errors: [
        { field: 'customerId', message: 'must be given once' },
        { field: 'open', message: 'must be true or false' },
        { field: 'limit', message: 'must be an integer from 1 to 500' },
      ],
    });
    expect(parseEpisodeQuery({ limit: '1.5' })).toEqual({ errors: [{ field: 'limit', message: 'must be an integer from 1 to 500' }] });
  });
});
