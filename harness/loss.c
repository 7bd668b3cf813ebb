/*
 * loss.c - softmax cross-entropy: probabilities, losses, scores and the
 * logit gradient. Sums run in double so a row of many classes loses no
 * precision; outputs are float like the rest of the network.
 */
#include "loss.h"

#include <assert.h>
#include <math.h>

/* One row: fill p [K] and return the loss; *first_max gets argmax z. */
static double softmax_row(const float *z, int label, int K, float *p,
                          int *first_max)
{
    int arg = 0;
    for (int k = 1; k < K; k++) {
        if (z[k] > z[arg]) {
            arg = k;
        }
    }
    *first_max = arg;

    /* log-sum-exp shifted by the max, so every exponent is <= 0 */
    double zmax = z[arg];
    double sum = 0.0;
    for (int k = 0; k < K; k++) {
        sum += exp((double)z[k] - zmax);
    }
    double log_sum = log(sum);
    for (int k = 0; k < K; k++) {
        double pk = exp((double)z[k] - zmax - log_sum);
        /* Flush tiny probabilities to zero here (fpenv.h explains why);
         * the loss itself comes from the logits, in double. */
        p[k] = pk < LOSS_PROB_FLOOR ? 0.0f : (float)pk;
    }
    return -((double)z[label] - zmax - log_sum);
}

void loss_softmax_ce(const float *z, const int *y, size_t b, int K,
                     float *prob, float *loss, float *score,
                     unsigned char *correct)
{
    for (size_t i = 0; i < b; i++) {
        const float *zi = z + i * (size_t)K;
        float *pi = prob + i * (size_t)K;
        int arg = 0;
        assert(y[i] >= 0 && y[i] < K);

        double li = softmax_row(zi, y[i], K, pi, &arg);
        if (loss != NULL) {
            loss[i] = (float)li;
        }
        if (score != NULL) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                double e = (double)pi[k] - (k == y[i] ? 1.0 : 0.0);
                s += e * e;
            }
            score[i] = (float)sqrt(s);
        }
        if (correct != NULL) {
            correct[i] = (unsigned char)(arg == y[i]);
        }
    }
}

void loss_softmax_ce_delta(const float *prob, const int *y,
                           const float *weight, float scale, size_t b,
                           int K, float *delta)
{
    for (size_t i = 0; i < b; i++) {
        const float *pi = prob + i * (size_t)K;
        float *di = delta + i * (size_t)K;
        float s = weight != NULL ? scale * weight[i] : scale;

        for (int k = 0; k < K; k++) {
            di[k] = s * pi[k];
        }
        di[y[i]] -= s;
    }
}
