/*
 * test_loss.c - the softmax cross-entropy head against the ALGORITHMS.md
 * test values, and its gradient against the definition.
 */
#include <math.h>

#include <criterion/criterion.h>

#include "harness/loss.h"

#define TOL 1e-5

Test(loss_softmax_ce, two_equal_logits_score_is_half_root_two)
{
    const float z[2] = {0.0f, 0.0f};
    const int y[1] = {0};
    float p[2];
    float loss;
    float score;
    unsigned char correct;

    loss_softmax_ce(z, y, 1, 2, p, &loss, &score, &correct);
    cr_expect(fabs(score - 0.707107) < TOL, "G = %.7f", score);
    cr_expect(fabs(loss - log(2.0)) < TOL, "L = %.7f", loss);
    cr_expect(fabs(p[0] - 0.5) < TOL && fabs(p[1] - 0.5) < TOL);
    cr_expect_eq(correct, 1, "a tie goes to the first class");
}

Test(loss_softmax_ce, three_logits_match_table)
{
    const float z[3] = {2.0f, 1.0f, 0.0f};
    const int y[1] = {0};
    float p[3];
    float loss;
    float score;
    unsigned char correct;

    loss_softmax_ce(z, y, 1, 3, p, &loss, &score, &correct);
    cr_expect(fabs(score - 0.424336) < TOL, "G = %.7f", score);
    cr_expect(fabs(loss - 0.407606) < TOL, "L = %.7f", loss);
    cr_expect_eq(correct, 1);
    cr_expect(fabs(p[0] + p[1] + p[2] - 1.0) < TOL);
}

Test(loss_softmax_ce, huge_logits_stay_finite)
{
    /* exp(1000) overflows; the shifted form must not. */
    const float z[6] = {1000.0f, 999.0f, 998.0f, -1000.0f, 0.0f, 1000.0f};
    const int y[2] = {1, 0};
    float p[6];
    float loss[2];
    float score[2];
    unsigned char correct[2];

    loss_softmax_ce(z, y, 2, 3, p, loss, score, correct);
    cr_expect(fabs(loss[0] - 1.407606) < TOL, "L0 = %.7f", loss[0]);
    cr_expect(fabs(loss[1] - 2000.0) < 1e-2, "L1 = %.7f", loss[1]);
    cr_expect(isfinite(score[0]) && isfinite(score[1]));
    cr_expect_eq(correct[0], 0);
    cr_expect_eq(correct[1], 0);
}

Test(loss_softmax_ce_delta, is_weighted_prob_minus_onehot)
{
    const float z[6] = {2.0f, 1.0f, 0.0f, 0.5f, -1.0f, 3.0f};
    const int y[2] = {0, 2};
    const float w[2] = {2.0f, 0.5f};
    float p[6];
    float delta[6];

    loss_softmax_ce(z, y, 2, 3, p, NULL, NULL, NULL);
    loss_softmax_ce_delta(p, y, w, 0.5f, 2, 3, delta);
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 3; k++) {
            double want = 0.5 * w[i] * (p[i * 3 + k] - (k == y[i]));
            cr_expect(fabs(delta[i * 3 + k] - want) < 1e-7,
                      "delta[%d][%d] = %g, expected %g", i, k,
                      delta[i * 3 + k], want);
        }
    }
}

Test(loss_softmax_ce_delta, matches_central_difference_of_loss)
{
    /* Float logits and losses: with h = 1e-2 the rounding error
     * (~1e-7 / h = 1e-5) and the O(h^2) truncation both stay below the
     * 1e-4 tolerance. */
    float z[4] = {0.3f, -1.2f, 0.8f, 0.1f};
    const int y[1] = {2};
    float p[4];
    float delta[4];
    const float h = 1e-2f;

    loss_softmax_ce(z, y, 1, 4, p, NULL, NULL, NULL);
    loss_softmax_ce_delta(p, y, NULL, 1.0f, 1, 4, delta);
    for (int k = 0; k < 4; k++) {
        float lp;
        float lm;
        float zk = z[k];
        z[k] = zk + h;
        loss_softmax_ce(z, y, 1, 4, p, &lp, NULL, NULL);
        z[k] = zk - h;
        loss_softmax_ce(z, y, 1, 4, p, &lm, NULL, NULL);
        z[k] = zk;
        double fd = ((double)lp - lm) / (2.0 * h);
        cr_expect(fabs(fd - delta[k]) < 1e-4, "k %d: fd %g, delta %g", k,
                  fd, delta[k]);
    }
}
